// Progressive enhancement for the inbox and alerts pages: remembers the
// user's name, ticks every row, and refreshes rows and the alert banner in
// place when the server announces a change over Server-Sent Events.
(function(){
  const KEY='cm_by';
  for (const input of document.querySelectorAll('input[name=by]')) {
    if (!input.value) input.value = localStorage.getItem(KEY) || '';
    input.addEventListener('change', () => localStorage.setItem(KEY, input.value.trim()));
  }
  const all = document.getElementById('select-all');
  if (all) all.addEventListener('change', () => {
    for (const box of document.querySelectorAll('#rows input[name=id]')) box.checked = all.checked;
  });
  if (!window.EventSource) return;
  const live = document.getElementById('live');
  let fresh = 0, timer = null;
  async function refresh() {
    const rows = document.getElementById('rows');
    if (rows) {
      const checked = new Set([...rows.querySelectorAll('input[name=id]:checked')].map(b => b.value));
      const answer = await fetch('/inbox/rows' + location.search, {credentials: 'same-origin'});
      if (answer.ok) {
        rows.outerHTML = await answer.text();
        for (const box of document.querySelectorAll('#rows input[name=id]')) box.checked = checked.has(box.value);
      }
    }
    const banner = document.getElementById('banner');
    if (banner) {
      const answer = await fetch('/banner', {credentials: 'same-origin'});
      if (answer.ok) banner.innerHTML = await answer.text();
    }
    // How many refreshes this page has had (tests wait on it).
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
  }
  function soon() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
  const events = new EventSource('/api/events');
  // Whatever happened between rendering and (re)connecting is fetched once.
  events.addEventListener('open', () => { if (live) live.textContent = '● live'; soon(); });
  events.addEventListener('error', () => { if (live) live.textContent = '○ reconnecting'; });
  events.addEventListener('mention', e => {
    const data = JSON.parse(e.data);
    fresh += data.count || 1;
    if (live) live.textContent = '● live · ' + fresh + ' new negative since load';
    soon();
  });
  events.addEventListener('alert', soon);
  events.addEventListener('state', soon);
})();
