// Progressive enhancement for the pages; every form works without it.
// - remembers the user's name and ticks every row;
// - live updates: one event stream per browser (a shared worker), changed
//   rows updated in place from the event itself, new mentions and alerts
//   fetched once;
// - the inbox's actions without leaving the page, each with an undo toast;
// - keyboard: j/k move, x selects, r respond, a assign, i ignore, u undo,
//   ? help, Esc leaves a field.
(function(){
  const KEY = 'cm_by';
  for (const input of document.querySelectorAll('input[name=by]')) {
    if (!input.value) input.value = localStorage.getItem(KEY) || '';
    input.addEventListener('change', () => localStorage.setItem(KEY, input.value.trim()));
  }
  const all = document.getElementById('select-all');
  if (all) all.addEventListener('change', () => {
    for (const box of document.querySelectorAll('#rows input[name=id]')) box.checked = all.checked;
  });
  // ---- the reply box: characters left, saved replies, a posting reply's progress ----
  const replyText = document.getElementById('reply-text');
  if (replyText) {
    const count = document.getElementById('reply-count');
    const account = document.querySelector('form.reply select[name=account]');
    const limit = () => Number((account && account.selectedOptions[0] && account.selectedOptions[0].dataset.max) || replyText.dataset.max);
    const show = () => {
      const used = [...replyText.value].length, max = limit();
      replyText.maxLength = max;
      count.textContent = used + ' / ' + max;
      count.classList.toggle('neg', used > max);
    };
    replyText.addEventListener('input', show);
    if (account) account.addEventListener('change', show);
    const template = document.getElementById('reply-template');
    if (template) template.addEventListener('change', () => {
      if (template.value) { replyText.value = template.value; show(); replyText.focus(); }
    });
    show();
  }
  if (document.querySelector('#reply .pill.queued, #reply .pill.sending')) {
    setTimeout(() => location.reload(), 2000);
  }
  const bump = name => { document.body.dataset[name] = String(Number(document.body.dataset[name] || 0) + 1); };

  // ---- live updates ----
  const live = document.getElementById('live');
  const params = new URLSearchParams(location.search);
  let fresh = 0, timer = null;
  async function refresh() {
    const rows = document.getElementById('rows');
    if (rows) {
      const checked = new Set([...rows.querySelectorAll('input[name=id]:checked')].map(b => b.value));
      const current = rows.querySelector('tr.current');
      const answer = await fetch('/inbox/rows' + location.search, {credentials: 'same-origin'});
      if (answer.ok) {
        rows.outerHTML = await answer.text();
        for (const box of document.querySelectorAll('#rows input[name=id]')) box.checked = checked.has(box.value);
        if (current) mark(document.querySelector('#rows tr[data-id="' + current.dataset.id + '"]'));
      }
    }
    const banner = document.getElementById('banner');
    if (banner) {
      const answer = await fetch('/banner', {credentials: 'same-origin'});
      if (answer.ok) banner.innerHTML = await answer.text();
    }
    // How many refreshes this page has had (tests wait on it).
    bump('refreshed');
  }
  function soon() { clearTimeout(timer); timer = setTimeout(refresh, 250); }
  // Whether a row in `state` with `label` still belongs on this page.
  function belongs(state, label) {
    const wanted = params.get('state') || 'open';
    const states = wanted === 'open' ? ['new', 'assigned'] : wanted === 'all' ? null : wanted.split(',');
    const asked = params.get('label') || 'negative';
    // "Not scored" rows carry the neutral label.
    const labelWanted = asked === 'unscored' ? 'neutral' : asked;
    return (!states || states.includes(state)) && (labelWanted === 'all' || labelWanted === label);
  }
  function changed(data) {
    if (!data.rows) { soon(); return; }
    for (const row of data.rows) {
      const tr = document.querySelector('#rows tr[data-id="' + row.id + '"]');
      if (!tr) continue;
      const cell = tr.querySelector('td.state');
      if (cell) cell.innerHTML = row.html;
      tr.classList.toggle('handled', !belongs(row.state, row.label));
      tr.title = tr.classList.contains('handled') ? 'handled: it leaves this view when the page is next loaded' : '';
    }
    bump('pushed');
  }
  function listen(on) {
    on('open', () => { if (live) live.textContent = '● live'; soon(); });
    on('error', () => { if (live) live.textContent = '○ reconnecting'; });
    on('mention', data => {
      fresh += JSON.parse(data).count || 1;
      if (live) live.textContent = '● live · ' + fresh + ' new negative since load';
      soon();
    });
    on('alert', soon);
    on('state', data => changed(JSON.parse(data)));
  }
  if (window.SharedWorker) {
    const worker = new SharedWorker('/assets/events-worker.js');
    const handlers = {};
    listen((name, handler) => { handlers[name] = handler; });
    worker.port.onmessage = e => { const h = handlers[e.data.type]; if (h) h(e.data.data); };
    worker.port.start();
    addEventListener('pagehide', () => worker.port.postMessage('close'));
  } else if (window.EventSource) {
    const events = new EventSource('/api/events');
    listen((name, handler) => events.addEventListener(name, e => handler(e.data)));
  }

  // ---- inbox actions in place, with undo ----
  const form = document.getElementById('actions');
  if (!form) return;
  const toast = document.createElement('div');
  toast.id = 'toast';
  toast.setAttribute('role', 'status');
  toast.hidden = true;
  document.body.appendChild(toast);
  let toastTimer = null;
  function say(text, undo) {
    toast.replaceChildren(document.createTextNode(text));
    if (undo) {
      const button = document.createElement('button');
      button.type = 'button';
      button.id = 'undo';
      button.textContent = 'Undo (u)';
      button.addEventListener('click', undo);
      toast.append(' ', button);
    }
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { toast.hidden = true; }, 10000);
  }
  let lastUndo = null;
  async function send(path, body) {
    const answer = await fetch(path, {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify(body),
    });
    let reply = {};
    try { reply = await answer.json(); } catch (_) { /* an empty or HTML answer */ }
    if (!answer.ok) throw new Error(reply.error || ('the server answered ' + answer.status));
    return reply;
  }
  const value = name => { const f = form.elements[name]; return f && f.value.trim() ? f.value.trim() : undefined; };
  const selected = () => [...document.querySelectorAll('#rows input[name=id]:checked')].map(b => Number(b.value));
  const DONE = {respond: 'Marked responded', assign: 'Assigned', ignore: 'Ignored', undo: 'Undone', label: 'Label corrected'};
  async function act(action) {
    const ids = selected();
    if (!ids.length) { say('Select at least one mention first (x).'); return; }
    const by = value('by');
    try {
      if (action === 'label') {
        const label = value('label');
        if (!label) { say('Choose the label to give them first.'); return; }
        for (const id of ids) {
          if (label === 'not_about_us') await send('/api/mentions/' + id + '/not-about-us', {by});
          else await send('/api/mentions/' + id + '/label', {label, by});
        }
        say(DONE.label + ': ' + ids.length);
        soon();
        return;
      }
      const body = {ids, action, by};
      if (action === 'respond') { body.reply_url = value('reply_url'); body.note = value('note'); }
      if (action === 'assign') body.assignee = value('assignee');
      if (action === 'ignore') body.note = value('note');
      await send('/api/mentions/actions', body);
      for (const name of ['reply_url', 'note']) if (form.elements[name]) form.elements[name].value = '';
      lastUndo = action === 'undo' ? null : async () => {
        lastUndo = null;
        try { await send('/api/mentions/actions', {ids, action: 'undo', by}); say(DONE.undo + ': ' + ids.length); soon(); }
        catch (e) { say(e.message); }
      };
      say(DONE[action] + ': ' + ids.length + (ids.length === 1 ? ' mention' : ' mentions'), lastUndo);
      // This page fetches its rows again (handled ones leave it); other
      // pages only get the changed rows pushed.
      soon();
      if (document.activeElement) document.activeElement.blur();
    } catch (e) {
      say(e.message);
    }
  }
  form.addEventListener('submit', e => {
    // A row's Take button posts the form as it is (assigns that row to you).
    if (e.submitter && e.submitter.name === 'take') return;
    const action = e.submitter && e.submitter.name === 'action' ? e.submitter.value : 'respond';
    e.preventDefault();
    act(action);
  });
  // Enter in "Assign to" assigns (the form's first button is Respond).
  if (form.elements.assignee) form.elements.assignee.addEventListener('keydown', e => {
    if (e.key === 'Enter') { e.preventDefault(); act('assign'); }
  });

  // ---- keyboard ----
  function mark(tr) {
    for (const other of document.querySelectorAll('#rows tr.current')) other.classList.remove('current');
    if (!tr) return;
    tr.classList.add('current');
    tr.scrollIntoView({block: 'nearest'});
  }
  const rows = () => [...document.querySelectorAll('#rows tr[data-id]')];
  const current = () => document.querySelector('#rows tr.current');
  function move(step) {
    const list = rows();
    if (!list.length) return;
    const at = list.indexOf(current());
    mark(list[Math.min(Math.max(at + step, 0), list.length - 1)] || list[0]);
  }
  // The selection, or the current row when nothing is selected.
  function ensureSelection() {
    if (selected().length) return;
    const tr = current();
    const box = tr && tr.querySelector('input[name=id]');
    if (box) box.checked = true;
  }
  const help = document.createElement('div');
  help.id = 'keys';
  help.hidden = true;
  help.textContent = 'j / k: next / previous · x: select · r: respond (type a note, Enter) · a: assign (name, Enter) · i: ignore · u: undo · Esc: leave a field · ?: this help';
  form.after(help);
  document.addEventListener('keydown', e => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const typing = e.target.closest && e.target.closest('input, select, textarea');
    if (e.key === 'Escape') { if (typing) e.target.blur(); toast.hidden = true; return; }
    if (typing) return;
    const field = name => { ensureSelection(); const f = form.elements[name]; if (f) { e.preventDefault(); f.focus(); } };
    switch (e.key) {
      case 'j': move(1); break;
      case 'k': move(-1); break;
      case 'x': {
        const tr = current() || (move(0), current());
        const box = tr && tr.querySelector('input[name=id]');
        if (box) box.checked = !box.checked;
        break;
      }
      case 'r': field('note'); break;
      case 'a': field('assignee'); break;
      case 'i': ensureSelection(); act('ignore'); break;
      case 'u': if (lastUndo) lastUndo(); else { ensureSelection(); act('undo'); } break;
      case '?': help.hidden = !help.hidden; break;
      default: return;
    }
  });
})();
