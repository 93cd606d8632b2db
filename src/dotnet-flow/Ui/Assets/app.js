// dotnet flow ui: one module for every page. User values reach the page only as text (el(..., text) sets
// textContent), never as HTML. The path names the page: /, /Flow, /Flow/run, /Flow/run/Step/task.
import dagre from './vendor/dagre.esm.js';

const main = document.getElementById('main');
const crumbs = document.getElementById('crumbs');
const SVG = 'http://www.w3.org/2000/svg';

function el(tag, attrs = {}, ...children) {
  const node = tag.startsWith('svg:') ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null) continue;
    if (key === 'class') node.setAttribute('class', value);
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// Replaces a node's children: arrays are flattened and null or undefined left out (replaceChildren would print them).
function fill(node, ...children) {
  node.replaceChildren(...children.flat(Infinity).filter(c => c !== undefined && c !== null));
  return node;
}

const enc = encodeURIComponent;
const link = (href, text) => el('a', { href, 'data-nav': '' }, text);
const status = s => el('span', { class: `status ${s}` }, s);
const when = t => t ? new Date(t).toLocaleString() : '';
function duration(from, to) {
  if (!from) return '';
  const ms = (to ? new Date(to) : new Date()) - new Date(from);
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  return s < 120 ? `${s.toFixed(1)} s` : s < 7200 ? `${(s / 60).toFixed(1)} min` : `${(s / 3600).toFixed(1)} h`;
}

async function api(path) {
  const response = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `${response.status}`);
  return body;
}

function setCrumbs(parts) {
  fill(crumbs, ...parts.flatMap((p, i) => [i ? el('span', { class: 'sep' }, '/') : null, p.href ? link(p.href, p.text) : el('span', {}, p.text)]));
}

let stop = () => {};
async function route() {
  stop();
  stop = () => {};
  const parts = location.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  try {
    if (parts.length === 0) await flowsPage();
    else if (parts.length === 1) await runsPage(parts[0]);
    else if (parts.length === 2 && parts[1] === 'compare') await comparePage(parts[0]);
    else if (parts.length === 2) await runPage(parts[0], parts[1]);
    else if (parts.length === 3 && parts[2] === 'code') await codePage(parts[0], parts[1]);
    else if (parts.length === 4) await taskPage(...parts);
    else throw new Error('No page here: the UI has /Flow, /Flow/run, /Flow/run/code and /Flow/run/Step/task.');
  } catch (error) {
    fill(main, el('h1', {}, 'Not found'), el('pre', { class: 'error' }, error.message));
  }
}

document.addEventListener('click', event => {
  const a = event.target.closest && event.target.closest('a[data-nav]');
  if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  history.pushState(null, '', a.getAttribute('href'));
  route();
});
window.addEventListener('popstate', route);

async function flowsPage() {
  setCrumbs([]);
  document.title = 'Flows · dotnet flow';
  const flows = await api('/api/flows');
  fill(main, el('h1', {}, 'Flows'), flows.length === 0 ? el('p', { class: 'muted' }, 'No runs yet: dotnet flow run.') :
    el('table', { id: 'flows' },
      el('tr', {}, el('th', {}, 'Flow'), el('th', {}, 'Runs'), el('th', {}, 'Latest run'), el('th', {}, 'Status'), el('th', {}, 'Started')),
      flows.map(f => el('tr', {},
        el('td', {}, link(`/${enc(f.name)}`, f.name)), el('td', {}, f.runs),
        el('td', {}, f.latest ? link(`/${enc(f.name)}/${enc(f.latest.id)}`, f.latest.id) : ''),
        el('td', {}, f.latest ? status(f.latest.status) : ''), el('td', {}, f.latest ? when(f.latest.startedAt) : '')))));
}

async function runsPage(flow) {
  setCrumbs([{ text: flow }]);
  document.title = `${flow} · dotnet flow`;
  const query = new URLSearchParams(location.search);
  const statusBox = el('select', { name: 'status' }, ['', 'running', 'succeeded', 'failed'].map(s => el('option', { value: s }, s || 'any status')));
  const tagBox = el('input', { name: 'tag', placeholder: 'tag (exact)' });
  const textBox = el('input', { name: 'q', placeholder: 'search id, user, tags' });
  statusBox.value = query.get('status') || '';
  tagBox.value = query.get('tag') || '';
  textBox.value = query.get('q') || '';
  const from = Number(query.get('from') || 0);
  const table = el('table', { id: 'runs' });
  const pager = el('div', { class: 'pager' });
  const apply = (start = 0) => {
    const q = new URLSearchParams();
    if (statusBox.value) q.set('status', statusBox.value);
    if (tagBox.value) q.set('tag', tagBox.value);
    if (textBox.value) q.set('q', textBox.value);
    if (start) q.set('from', start);
    history.replaceState(null, '', `/${enc(flow)}${q.toString() ? '?' + q : ''}`);
    load(start);
  };
  statusBox.addEventListener('change', () => apply());
  tagBox.addEventListener('change', () => apply());
  textBox.addEventListener('input', () => apply());
  const chosen = new Set();
  const compare = el('button', { id: 'compare', disabled: '', onclick: () => {
    history.pushState(null, '', `/${enc(flow)}/compare?runs=${[...chosen].map(enc).join(',')}`);
    route();
  } }, 'Compare selected');
  const choose = (id, box) => {
    if (box.checked) chosen.add(id); else chosen.delete(id);
    compare.toggleAttribute('disabled', chosen.size < 2 || chosen.size > 8);
  };
  fill(main, el('h1', {}, `Runs of ${flow}`), el('div', { class: 'filters' }, statusBox, tagBox, textBox, compare), table, pager);
  const count = 50;
  async function load(start) {
    const q = new URLSearchParams({ from: start, count });
    if (statusBox.value) q.set('status', statusBox.value);
    if (tagBox.value) q.set('tag', tagBox.value);
    if (textBox.value) q.set('q', textBox.value);
    const page = await api(`/api/flows/${enc(flow)}/runs?${q}`);
    fill(table,
      el('tr', {}, ['', 'Run', 'Status', 'Started', 'Duration', 'User', 'Tags', 'Parameters'].map(h => el('th', {}, h))),
      page.runs.map(r => el('tr', { 'data-run': r.id },
        el('td', {}, (() => { const box = el('input', { type: 'checkbox', 'aria-label': `compare ${r.id}` }); box.checked = chosen.has(r.id); box.addEventListener('change', () => choose(r.id, box)); return box; })()),
        el('td', {}, link(`/${enc(flow)}/${enc(r.id)}`, r.id)), el('td', {}, status(r.status)), el('td', {}, when(r.startedAt)),
        el('td', {}, duration(r.startedAt, r.finishedAt)), el('td', {}, r.user), el('td', {}, r.tags.map(t => el('span', { class: 'tag' }, t))),
        el('td', { class: 'params' }, Object.entries(r.parameters || {}).map(([k, v]) => el('span', { class: 'param' }, `${k}=${v}`))))));
    fill(pager,
      el('button', { disabled: start === 0 ? '' : null, onclick: () => apply(Math.max(0, start - count)) }, 'Newer'),
      el('span', { class: 'muted' }, page.total === 0 ? 'no runs match' : `${start + 1}–${Math.min(start + count, page.total)} of ${page.total}`),
      el('button', { disabled: start + count >= page.total ? '' : null, onclick: () => apply(start + count) }, 'Older'));
  }
  await load(from);
}

async function runPage(flow, id) {
  setCrumbs([{ text: flow, href: `/${enc(flow)}` }, { text: id }]);
  document.title = `${flow}/${id} · dotnet flow`;
  const base = `/api/runs/${enc(flow)}/${enc(id)}`;
  const first = await api(base);
  const expanded = new Set();
  let latest = first;
  render(first);
  function render(run) {
    latest = run;
    const facts = el('dl', { class: 'facts', id: 'run-facts' },
      el('dt', {}, 'Status'), el('dd', {}, status(run.status), run.status === 'running' ? el('span', { class: 'live' }, '● live') : null),
      el('dt', {}, 'Started'), el('dd', {}, when(run.startedAt)),
      el('dt', {}, 'Duration'), el('dd', {}, duration(run.startedAt, run.finishedAt)),
      el('dt', {}, 'User'), el('dd', {}, run.user),
      el('dt', {}, 'Tags'), el('dd', {}, run.tags.map(t => el('span', { class: 'tag' }, t)), run.systemTags.map(t => el('span', { class: 'tag muted' }, t))),
      el('dt', {}, 'Code'), el('dd', {}, link(`/${enc(flow)}/${enc(id)}/code`, `snapshot ${run.code.slice(0, 12)}`)),
      run.origin ? [el('dt', {}, 'Resumed from'), el('dd', {}, link(`/${enc(flow)}/${enc(run.origin)}`, run.origin))] : null,
      Object.keys(run.parameters).length ? [el('dt', {}, 'Parameters'), el('dd', {}, el('table', { id: 'parameters' }, Object.entries(run.parameters).map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, v)))))] : null);
    const failed = run.tasks.find(t => t.status === 'failed' || t.status === 'died');
    fill(main,
      el('h1', {}, `${flow} / ${id}`), facts,
      run.failure ? [el('h2', {}, 'Failure'), el('pre', { class: 'error', id: 'failure' }, run.failure),
        failed ? el('p', {}, 'Failed task: ', link(`/${enc(flow)}/${enc(id)}/${enc(failed.step)}/${enc(failed.id)}`, `${failed.step}/${failed.id}`)) : null] : null,
      el('h2', {}, 'Graph'), graph(flow, id, run, expanded, () => render(latest)),
      el('h2', {}, `Timeline (${run.tasks.length} tasks)`), timeline(flow, id, run));
  }
  if (first.status === 'running') {
    const source = new EventSource(`${base}/events`);
    source.addEventListener('run', event => render(JSON.parse(event.data)));
    source.addEventListener('end', () => source.close());
    stop = () => source.close();
  }
}

// The graph of steps (a foreach is one node with its children's counts), laid out by dagre (vendored). A step
// with several tasks expands, on a click, into its tasks (each linking to its page).
function graph(flow, id, run, expanded = new Set(), redraw = () => {}) {
  const steps = run.steps;
  if (steps.length === 0) return el('p', { class: 'muted' }, 'No graph: the run has no readable code snapshot.');
  const counts = new Map();
  for (const t of run.tasks) {
    const c = counts.get(t.step) || { succeeded: 0, running: 0, failed: 0, died: 0, total: 0 };
    c[t.status] = (c[t.status] || 0) + 1;
    c.total++;
    counts.set(t.step, c);
  }
  const W = 190, H = 44;
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: 'TB', nodesep: 30, ranksep: 36, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const s of steps) g.setNode(s.name, { width: W, height: H });
  for (const s of steps) for (const next of s.next) if (g.hasNode(next)) g.setEdge(s.name, next);
  dagre.layout(g);
  const { width, height } = g.graph();
  const svg = el('svg:svg', { class: 'graph', id: 'graph', width, height, viewBox: `0 0 ${width} ${height}` });
  for (const e of g.edges()) {
    const points = g.edge(e).points;
    svg.append(el('svg:path', { d: points.map((p, i) => `${i ? 'L' : 'M'}${p.x},${p.y}`).join(' ') }));
  }
  for (const s of steps) {
    const c = counts.get(s.name);
    const state = !c ? 'pending' : c.failed ? 'failed' : c.died ? 'died' : c.running ? 'running' : 'succeeded';
    const p = g.node(s.name);
    const first = run.tasks.find(t => t.step === s.name);
    const many = c && c.total > 1;
    const label = c && (many || s.kind === 'foreach' || s.join)
      ? `${c.succeeded || 0} done · ${c.running || 0} running · ${(c.failed || 0) + (c.died || 0)} failed`
      : c ? state : 'not run';
    const node = el('svg:g', { class: `node ${state}${many ? ' expandable' : ''}${expanded.has(s.name) ? ' expanded' : ''}`, 'data-step': s.name, transform: `translate(${p.x - W / 2},${p.y - H / 2})` },
      el('svg:rect', { width: W, height: H }),
      el('svg:text', { x: 10, y: 18 }, (many ? (expanded.has(s.name) ? '▾ ' : '▸ ') : '') + s.name + (s.forEach ? ` (foreach ${s.forEach})` : '')),
      el('svg:text', { x: 10, y: 34, class: 'counts' }, label));
    if (many) {
      node.addEventListener('click', () => { if (expanded.has(s.name)) expanded.delete(s.name); else expanded.add(s.name); redraw(); });
      svg.append(node);
    } else {
      svg.append(first ? el('svg:a', { href: `/${enc(flow)}/${enc(id)}/${enc(s.name)}/${enc(first.id)}`, 'data-nav': '' }, node) : node);
    }
  }
  const open = steps.filter(s => expanded.has(s.name) && (counts.get(s.name)?.total || 0) > 1);
  return el('div', { class: 'graph-box' }, svg, open.map(s => stepTasks(flow, id, s.name, run.tasks.filter(t => t.step === s.name))));
}

// An expanded step: its tasks as squares coloured by state, in task order, each a link to the task.
function stepTasks(flow, id, step, tasks) {
  const MAX = 2000;
  return el('div', { class: 'step-tasks', 'data-step': step },
    el('h3', {}, `${step}: ${tasks.length} tasks`),
    el('div', { class: 'squares' }, tasks.slice(0, MAX).map(t =>
      el('a', { href: `/${enc(flow)}/${enc(id)}/${enc(step)}/${enc(t.id)}`, 'data-nav': '', class: `square ${t.status}`, title: `${step}/${t.id} ${t.status}` }))),
    tasks.length > MAX ? el('p', { class: 'muted' }, `the first ${MAX} of ${tasks.length} tasks`) : null);
}

// A run's code snapshot: its files as a tree, and the chosen file's source, highlighted (?file=path).
async function codePage(flow, id) {
  setCrumbs([{ text: flow, href: `/${enc(flow)}` }, { text: id, href: `/${enc(flow)}/${enc(id)}` }, { text: 'code' }]);
  document.title = `${flow}/${id} code · dotnet flow`;
  const code = await api(`/api/runs/${enc(flow)}/${enc(id)}/code`);
  const chosen = new URLSearchParams(location.search).get('file')
    || code.files.find(f => f.endsWith('.cs') && !f.includes('/')) || code.files.find(f => f.endsWith('.cs')) || code.files[0];
  const viewer = el('div', { class: 'source', id: 'source' });
  const root = {};
  for (const file of code.files) {
    let node = root;
    const parts = file.split('/');
    parts.slice(0, -1).forEach(p => { node = node[p + '/'] ||= {}; });
    node[parts[parts.length - 1]] = file;
  }
  const list = (node) => el('ul', {}, Object.keys(node).sort((a, b) => (b.endsWith('/') - a.endsWith('/')) || a.localeCompare(b)).map(key =>
    typeof node[key] === 'string'
      ? el('li', {}, el('a', { href: `/${enc(flow)}/${enc(id)}/code?file=${enc(node[key])}`, 'data-nav': '', class: node[key] === chosen ? 'chosen' : null }, key))
      : el('li', {}, el('details', { open: '' }, el('summary', {}, key), list(node[key])))));
  fill(main, el('h1', {}, `${flow} / ${id}: code snapshot ${code.hash.slice(0, 12)}`),
    el('div', { class: 'code-layout' }, el('nav', { class: 'file-tree', id: 'file-tree' }, list(root)), viewer));
  if (!chosen) { fill(viewer, el('p', { class: 'muted' }, 'The snapshot has no source files.')); return; }
  const file = await api(`/api/runs/${enc(flow)}/${enc(id)}/code/file?path=${enc(chosen)}`);
  if (file.binary) { fill(viewer, el('h2', {}, chosen), el('p', { class: 'muted' }, 'A binary file: not shown.')); return; }
  const lines = file.text.split('\n');
  fill(viewer, el('h2', {}, chosen),
    el('div', { class: 'code' }, el('pre', { class: 'gutter' }, lines.map((_, i) => i + 1).join('\n')), el('pre', { class: 'text' }, el('code', {}, highlight(file.text, chosen)))),
    file.truncated ? el('p', { class: 'muted' }, 'The file is longer: the first MiB is shown (dotnet flow code RUN --extract DIR restores it whole).') : null);
}

// Syntax highlighting as text nodes in spans (never HTML): comments, strings, numbers, keywords and attributes of
// C#; comments, tags and attribute values of XML project files; strings and numbers of JSON.
const CS_KEYWORDS = 'abstract as async await base bool break byte case catch char checked class const continue decimal default delegate do double else enum event explicit extern false finally fixed float for foreach get goto if implicit in init int interface internal is lock long namespace new null object operator out override params partial private protected public readonly record ref required return sbyte sealed set short sizeof stackalloc static string struct switch this throw true try typeof uint ulong unchecked unsafe ushort using var virtual void volatile when where while with yield nameof';
const RULES = {
  cs: [['comment', /\/\/[^\n]*|\/\*[\s\S]*?\*\//y], ['string', /\$?@"(?:[^"]|"")*"|\$?"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)+'/y],
    ['number', /\b\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?[fFdDmMuUlL]*\b/y], ['keyword', new RegExp(`\\b(?:${CS_KEYWORDS.split(' ').join('|')})\\b`, 'y')],
    ['attribute', /\[[A-Z]\w*/y], ['plain', /[A-Za-z_]\w*|\s+|./y]],
  xml: [['comment', /<!--[\s\S]*?-->/y], ['keyword', /<\/?[\w.:-]+|\/?>/y], ['string', /"[^"]*"|'[^']*'/y], ['plain', /[^<"']+|./y]],
  json: [['string', /"(?:[^"\\\n]|\\.)*"/y], ['number', /-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/y], ['keyword', /\b(?:true|false|null)\b/y], ['plain', /\s+|./y]],
};
function highlight(text, path) {
  const kind = /\.(cs|csx)$/.test(path) ? 'cs' : /\.(csproj|props|targets|xml|config|resx)$/.test(path) ? 'xml' : /\.json$/.test(path) ? 'json' : null;
  if (!kind || text.length > 512 * 1024) return text;
  const out = [];
  let plain = '';
  for (let i = 0; i < text.length;) {
    let token = null;
    let cls = 'plain';
    for (const [name, re] of RULES[kind]) {
      re.lastIndex = i;
      const m = re.exec(text);
      if (m && m[0].length > 0) { token = m[0]; cls = name; break; }
    }
    token ??= text[i];
    if (cls === 'plain') plain += token;
    else { if (plain) { out.push(plain); plain = ''; } out.push(el('span', { class: `hl-${cls}` }, token)); }
    i += token.length;
  }
  if (plain) out.push(plain);
  return out;
}

// The timeline: one row per task, its bar from the first attempt's start to the last's end; rows drawn only on screen.
function timeline(flow, id, run) {
  const tasks = run.tasks.filter(t => t.startedAt);
  const box = el('div', { class: 'timeline', id: 'timeline' });
  if (tasks.length === 0) return el('p', { class: 'muted' }, 'No task has started.');
  const t0 = Math.min(...tasks.map(t => +new Date(t.startedAt)));
  const t1 = Math.max(...tasks.map(t => +new Date(t.finishedAt || new Date())), t0 + 1);
  const ROW = 20, LABEL = 210;
  const inner = el('div', {});
  inner.style.height = `${tasks.length * ROW}px`;
  inner.style.position = 'relative';
  box.append(inner);
  const draw = () => {
    const first = Math.max(0, Math.floor(box.scrollTop / ROW) - 20);
    const last = Math.min(tasks.length, first + Math.ceil((box.clientHeight || 448) / ROW) + 40);
    fill(inner, ...tasks.slice(first, last).map((t, i) => {
      const row = el('div', { class: 'row' },
        el('span', { class: 'label' }, link(`/${enc(flow)}/${enc(id)}/${enc(t.step)}/${enc(t.id)}`, `${t.step}/${t.id}`)));
      row.style.top = `${(first + i) * ROW}px`;
      const bar = el('div', { class: `bar ${t.status}`, title: `${t.step}/${t.id} ${t.status} ${duration(t.startedAt, t.finishedAt)}` });
      const span = (box.clientWidth || 900) - LABEL - 10;
      bar.style.left = `${LABEL + ((+new Date(t.startedAt) - t0) / (t1 - t0)) * span}px`;
      bar.style.width = `${Math.max(2, ((+new Date(t.finishedAt || new Date()) - +new Date(t.startedAt)) / (t1 - t0)) * span)}px`;
      row.append(bar);
      return row;
    }));
  };
  box.addEventListener('scroll', () => requestAnimationFrame(draw));
  requestAnimationFrame(draw);
  return box;
}

// Runs side by side: parameters, each step's wall time, and each single-task step's artifacts, equal or different.
async function comparePage(flow) {
  const ids = (new URLSearchParams(location.search).get('runs') || '').split(',').filter(Boolean);
  setCrumbs([{ text: flow, href: `/${enc(flow)}` }, { text: 'compare' }]);
  document.title = `Compare ${flow} · dotnet flow`;
  const c = await api(`/api/compare/${enc(flow)}?runs=${ids.map(enc).join(',')}`);
  const head = el('tr', {}, el('th', {}, ''), c.runs.map(r => el('th', {}, link(`/${enc(flow)}/${enc(r.id)}`, r.id), ' ', status(r.status))));
  const cell = v => v === null ? el('td', { class: 'muted' }, '—')
    : el('td', {}, v.json !== undefined ? el('code', {}, v.json) : el('span', { class: 'muted' }, `${v.size} B, ${v.sha}`));
  // A row of differing values shown in full gets a line diff of each run's value against the first run's.
  const diffable = x => !x.equal && x.values.length > 1 && x.values.every(v => v && v.json !== undefined);
  const row = (label, x) => [
    el('tr', { class: x.equal ? 'same' : 'differs', 'data-name': x.name }, el('th', {}, label, x.equal ? '' : el('span', { class: 'diff-mark' }, ' ≠')), x.values.map(cell)),
    diffable(x) ? el('tr', { class: 'differs diff-row', 'data-diff': x.name }, el('th', { class: 'muted' }, '  diff'),
      x.values.map((v, i) => el('td', {}, i === 0 ? el('span', { class: 'muted' }, 'against this run') : diffView(x.values[0].json, v.json)))) : null];
  const table = el('table', { id: 'compare-table', class: 'compare' }, head,
    el('tr', {}, el('th', { colspan: c.runs.length + 1, class: 'section' }, 'Parameters')),
    c.parameters.map(p => row(p.name, p)),
    c.steps.map(s => [
      el('tr', { 'data-step': s.name }, el('th', { class: 'section' }, s.name),
        s.seconds.map((t, i) => el('td', { class: 'muted' }, t === null ? 'not run' : `${t.toFixed(2)} s`, s.tasks[i] > 1 ? ` · ${s.tasks[i]} tasks` : ''))),
      s.artifacts.map(a => row(`  ${a.name}`, a))]));
  const differing = el('input', { type: 'checkbox', id: 'only-differences' });
  differing.addEventListener('change', () => table.classList.toggle('only-differences', differing.checked));
  fill(main, el('h1', {}, `Compare ${c.runs.length} runs of ${flow}`),
    el('p', {}, el('label', {}, differing, ' only differences')), table);
}

// A line diff (longest common subsequence) of two JSON values, pretty-printed; lines as text only.
function diffView(a, b) {
  const pretty = t => { try { return JSON.stringify(JSON.parse(t), null, 2).split('\n'); } catch { return String(t).split('\n'); } };
  const x = pretty(a).slice(0, 400), y = pretty(b).slice(0, 400);
  const n = x.length, m = y.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const lines = [];
  let i = 0, j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) { lines.push(el('div', { class: 'same' }, '  ' + x[i])); i++; j++; }
    else if (i < n && (j === m || lcs[i + 1][j] >= lcs[i][j + 1])) { lines.push(el('div', { class: 'removed' }, '- ' + x[i])); i++; }
    else { lines.push(el('div', { class: 'added' }, '+ ' + y[j])); j++; }
  }
  return el('pre', { class: 'diff' }, lines);
}

async function taskPage(flow, id, step, task) {
  setCrumbs([{ text: flow, href: `/${enc(flow)}` }, { text: id, href: `/${enc(flow)}/${enc(id)}` }, { text: step }, { text: task }]);
  document.title = `${flow}/${id}/${step}/${task} · dotnet flow`;
  const base = `/api/tasks/${enc(flow)}/${enc(id)}/${enc(step)}/${enc(task)}`;
  const t = await api(base);
  const value = el('div', { id: 'artifact-value' });
  const logs = el('pre', { class: 'logs', id: 'logs' });
  fill(main,
    el('h1', {}, `${step} / ${task}`),
    el('dl', { class: 'facts' }, el('dt', {}, 'Status'), el('dd', {}, status(t.status)),
      t.clonedFrom ? [el('dt', {}, 'Cloned from'), el('dd', {}, t.clonedFrom)] : null,
      el('dt', {}, 'Attempts'), el('dd', {}, t.attempts.map(a => `${a.number}: ${a.status} ${duration(a.startedAt, a.finishedAt)}`).join(' · '))),
    t.error ? [el('h2', {}, 'Error'), el('pre', { class: 'error', id: 'error' }, `${t.error.type}: ${t.error.message}\n${t.error.stackTrace || ''}`)] : null,
    el('h2', {}, 'Artifacts'),
    t.artifacts.length === 0 ? el('p', { class: 'muted' }, 'None.') : el('table', { id: 'artifacts' },
      el('tr', {}, el('th', {}, 'Name'), el('th', {}, 'Type'), el('th', {}, 'Size')),
      t.artifacts.map(a => el('tr', {},
        el('td', {}, el('a', { href: '#', onclick: e => { e.preventDefault(); showArtifact(base, a.name, value); } }, a.name)),
        el('td', {}, a.type), el('td', {}, `${a.size} B`)))),
    value,
    t.card.exists || !t.card.final ? [el('h2', {}, 'Card'), cardView(flow, id, step, task, base, t.card)] : null,
    el('h2', {}, 'Output'), logs);
  followLogs(base, logs);
}

// The task's card in a sandboxed frame (its own opaque origin: no access to this page); reloaded while it refreshes.
function cardView(flow, id, step, task, base, state) {
  const src = s => `/cards/${enc(flow)}/${enc(id)}/${enc(step)}/${enc(task)}?v=${enc(s.updatedAt || '')}`;
  const note = el('p', { class: 'muted', id: 'card-note' }, state.exists ? (state.final ? '' : 'live: the task is running') : 'No card yet: the task is running.');
  const frame = el('iframe', { id: 'card-frame', class: 'card-frame', sandbox: 'allow-scripts', title: `card of ${step}/${task}`, src: state.exists ? src(state) : null });
  const onMessage = event => {
    if (event.source === frame.contentWindow && event.data && typeof event.data.flowCardHeight === 'number') {
      frame.style.height = `${Math.min(Math.max(event.data.flowCardHeight + 24, 80), 20000)}px`;
    }
  };
  window.addEventListener('message', onMessage);
  let shown = state.updatedAt;
  let timer = 0;
  const poll = async () => {
    try {
      const next = await api(`${base}/card`);
      if (next.exists && next.updatedAt !== shown) { shown = next.updatedAt; frame.src = src(next); }
      note.textContent = next.final ? '' : next.exists ? 'live: the task is running' : 'No card yet: the task is running.';
      if (!next.final) timer = setTimeout(poll, 1000);
    } catch { timer = setTimeout(poll, 2000); }
  };
  if (!state.final) timer = setTimeout(poll, 1000);
  const previous = stop;
  stop = () => { previous(); clearTimeout(timer); window.removeEventListener('message', onMessage); };
  return el('div', { class: 'card' }, note, frame);
}

async function showArtifact(base, name, box, offset = 0) {
  const page = await api(`${base}/artifacts/${enc(name)}?offset=${offset}&count=65536`);
  if (page.tooLarge) {
    fill(box, el('h2', {}, `${name} (${page.type})`), el('p', { class: 'muted', id: 'too-large' },
      `${(page.size / 1048576).toFixed(1)} MiB stored: too large to show here. Load it with the client API (TaskInfo["${name}"].Value<T>(), or as a Stream).`));
    return;
  }
  const whole = offset === 0 && page.length === page.text.length;
  let view = el('pre', { class: 'value' }, page.text);
  if (whole) {
    try { view = valueView(JSON.parse(page.text), page.type); } catch { /* shown as stored */ }
  }
  const next = page.offset + page.text.length;
  fill(box, el('h2', {}, `${name} (${page.type})`), view,
    next < page.length ? el('button', { onclick: () => showArtifact(base, name, box, next) }, `Next page (${next} of ${page.length} characters)`) : null);
}

// A value as people read it: image bytes as an image, a list of records as a table, other JSON as a tree.
function valueView(value, type) {
  if (typeof value === 'string' && /^System\.Byte\[\]$/.test(type)) {
    const kind = value.startsWith('iVBORw0KGgo') ? 'image/png' : value.startsWith('/9j/') ? 'image/jpeg'
      : atobSafe(value).trimStart().startsWith('<svg') ? 'image/svg+xml' : null;
    if (kind) return el('img', { class: 'artifact-image', alt: 'image artifact', src: `data:${kind};base64,${value}` });
  }
  if (typeof value === 'string' && value.trimStart().startsWith('<svg')) {
    return el('img', { class: 'artifact-image', alt: 'SVG artifact', src: `data:image/svg+xml;base64,${btoa(unescape(encodeURIComponent(value)))}` });
  }
  if (Array.isArray(value) && value.length > 0 && value.every(r => r && typeof r === 'object' && !Array.isArray(r))) {
    const columns = [...new Set(value.slice(0, 200).flatMap(r => Object.keys(r)))];
    return el('div', { class: 'records' }, el('table', { class: 'records' },
      el('tr', {}, columns.map(c => el('th', {}, c))),
      value.slice(0, 500).map(r => el('tr', {}, columns.map(c => el('td', {}, r[c] === undefined ? '' : typeof r[c] === 'object' ? JSON.stringify(r[c]) : String(r[c])))))),
      value.length > 500 ? el('p', { class: 'muted' }, `first 500 of ${value.length} rows`) : null);
  }
  if (value && typeof value === 'object') return el('div', { class: 'tree' }, tree(value, 0));
  return el('pre', { class: 'value' }, JSON.stringify(value, null, 2));
}

function atobSafe(text) {
  try { return atob(text.slice(0, 64)); } catch { return ''; }
}

function tree(value, depth) {
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return el('ul', {}, entries.slice(0, 1000).map(([key, v]) => v && typeof v === 'object'
    ? el('li', {}, el('details', depth < 1 ? { open: '' } : {}, el('summary', {}, `${key}: ${Array.isArray(v) ? `[${v.length}]` : `{${Object.keys(v).length}}`}`), tree(v, depth + 1)))
    : el('li', {}, el('span', { class: 'key' }, `${key}: `), el('span', { class: 'leaf' }, JSON.stringify(v)))),
    entries.length > 1000 ? el('li', { class: 'muted' }, `… ${entries.length - 1000} more`) : null);
}

function followLogs(base, box) {
  let position = { stdout: 0, stderr: 0 };
  let timer = 0;
  let alive = true;
  const tick = async () => {
    const page = await api(`${base}/logs?stdout=${position.stdout}&stderr=${position.stderr}`);
    position = page;
    if (page.skipped > 0) {
      box.append(el('div', { class: 'skipped' }, `… ${page.skipped} earlier lines not shown here (dotnet flow logs prints them all)`));
    }
    for (const line of page.lines) {
      box.append(el('div', { class: line.err ? 'err' : '' }, el('span', { class: 'time' }, line.time), line.text));
    }
    if (!page.complete && alive) timer = setTimeout(tick, 1000);
  };
  const previous = stop;
  stop = () => { previous(); alive = false; clearTimeout(timer); };
  tick();
}

route();
