// One Server-Sent Events connection per browser, shared by every open page
// of the service: browsers allow six connections per host over HTTP/1.1, and
// a page per connection would leave the seventh tab waiting forever. Each
// page connects to this worker; the worker relays every event to all of them.
const ports = new Set();
let source = null;
let open = false;

function relay(message) {
  for (const port of ports) port.postMessage(message);
}

function connect() {
  source = new EventSource('/api/events');
  source.addEventListener('open', () => { open = true; relay({type: 'open'}); });
  source.addEventListener('error', () => { open = false; relay({type: 'error'}); });
  for (const name of ['mention', 'alert', 'state']) {
    source.addEventListener(name, e => relay({type: name, data: e.data}));
  }
}

onconnect = event => {
  const port = event.ports[0];
  ports.add(port);
  port.onmessage = e => { if (e.data === 'close') ports.delete(port); };
  port.start();
  if (!source) connect();
  else if (open) port.postMessage({type: 'open'});
};
