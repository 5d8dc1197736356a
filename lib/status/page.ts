import type { StatusDocument, StatusKey } from './model.ts';

// The status page (docs/operators.md, "The status page"): one self-contained HTML document, its CSS,
// SVG and script inline, nothing fetched from elsewhere. The server renders everything (one renderer,
// every value through `escapeHtml`); the script only polls `status.json` and, when its `version`
// changes, swaps in a fresh rendering of `#status` and notes what changed. It sets text only through
// `textContent`, so nothing read from AWS is ever parsed as markup in the browser.

/** Text safe inside HTML or SVG element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => ENTITIES[char]!);
}

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Marks a string as already-escaped markup inside {@link html} templates. */
class Markup {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Value = string | number | null | undefined | boolean | Markup | readonly Markup[];

/** A template tag that escapes every interpolated value that is not itself {@link Markup}. */
function html(strings: TemplateStringsArray, ...values: Value[]): Markup {
  let out = strings[0]!;
  for (const [index, value] of values.entries()) {
    out += render(value) + strings[index + 1]!;
  }
  return new Markup(out);
}

function render(value: Value): string {
  if (value instanceof Markup) return value.text;
  if (Array.isArray(value)) return value.map((item: Markup) => item.text).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

/** The whole page: header, the `#status` section, and the polling script (with the CSP's nonce). */
export function renderPage(
  document: StatusDocument | { error: string; profile: string },
  nonce: string,
): string {
  const { profile } = document;
  const section = new Markup('error' in document ? renderError(document.error) : renderStatus(document));
  const readAt = 'error' in document ? '' : clock(document.generatedAt);
  return `<!doctype html>
${html`<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>Signet status: ${profile}</title>
<style nonce="${nonce}">${new Markup(STYLE)}</style>
</head>
<body>
<header>
<h1>Signet status <span class="profile">${profile}</span></h1>
<p class="meta">read at <span id="read-at">${readAt}</span> · updates by itself · loopback only, nothing secret shown</p>
<p id="banner" role="alert" hidden></p>
</header>
${section}
<aside>
<h2>Changes seen while this page was open</h2>
<ol id="events" reversed></ol>
</aside>
<script nonce="${nonce}">${new Markup(SCRIPT)}</script>
</body>
</html>`}
`;
}

/** The `#status` section shown when nothing could be read yet. */
export function renderError(message: string): string {
  return html`<section id="status" data-version="error" data-poll="2" data-active="" data-keys="">
<p class="unavailable">Could not read the live state: ${message}</p>
</section>`.text;
}

/** The `#status` section: what the page swaps in when the document's version changes. */
export function renderStatus(doc: StatusDocument): string {
  const ringKeys = doc.keys.filter((key) => key.state !== 'removed' && key.state !== 'revoked');
  const keysAttribute = ringKeys.map((key) => `${key.id ?? key.fingerprint}:${key.state}`).join(' ');
  return html`<section id="status" data-version="${doc.version}" data-poll="${doc.pollSeconds}" data-active="${doc.activeKeyId ?? ''}" data-keys="${keysAttribute}" data-generated-at="${doc.generatedAt}">
<div class="cards">
${card('Active key', html`<strong class="mono" id="active-key">${doc.activeKeyId ?? 'none: signing stopped'}</strong>`)}
${card('Next planned transition', nextMarkup(doc))}
${card('Key group slots', groupGauge(doc))}
${card('Account public keys', accountGauge(doc))}
</div>
<div class="columns">
<div class="main">
<h2>Key timeline</h2>
${timeline(doc)}
${legend()}
${timingsMarkup(doc)}
${keyTable(doc)}
</div>
<div class="side">
<h2>Doctor's findings</h2>
${findingsMarkup(doc)}
</div>
</div>
<p class="meta">profile ${doc.profile}${doc.stage === null ? '' : html` · stage ${doc.stage}`} · key group ${doc.keyGroup?.id ?? '(none yet)'}${doc.keyGroup?.name ? html` (${doc.keyGroup.name})` : ''} · distribution ${doc.distributionId ?? '(not configured)'} · reads ${doc.source}</p>
</section>`.text;
}

function card(title: string, body: Markup): Markup {
  return html`<div class="card"><h2>${title}</h2>${body}</div>`;
}

function nextMarkup(doc: StatusDocument): Markup {
  const { next } = doc;
  if (next.blocked !== null) {
    return html`<p id="next" class="blocked" data-kind="blocked"><strong>${next.description}</strong><br>${next.blocked.message}</p>`;
  }
  return html`<p id="next" data-kind="${next.kind}"><strong>${next.description}</strong>${
    next.at === null ? '' : html`<br>at ${when(next.at)}`
  }</p>`;
}

/** A time: `2026-12-06 12:03:04 UTC`, with a relative `(in 5 s)` the script keeps current. */
function when(iso: string | null): Markup {
  if (iso === null) return html`-`;
  return html`<time datetime="${iso}">${clock(iso)}</time> <span class="rel" data-rel="${iso}"></span>`;
}

/** A table cell's time: `12:03:04` on the day of `today` (else `12-07 12:03`), the full time on hover. */
function shortWhen(iso: string | null, today: string): Markup {
  if (iso === null) return html`-`;
  const text =
    iso.slice(0, 10) === today.slice(0, 10) ? iso.slice(11, 19) : `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
  return html`<time datetime="${iso}" title="${clock(iso)}">${text}</time><br><span class="rel" data-rel="${iso}"></span>`;
}

/** `2026-12-06 12:03:04 UTC`, or the time alone for today's dates. */
function clock(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

function groupGauge(doc: StatusDocument): Markup {
  const { group } = doc.gauges;
  const boxes = Array.from({ length: group.max }, (_, index) => {
    const slot = group.slots[index];
    const x = index * 34;
    if (slot === undefined)
      return html`<rect class="slot slot-free" x="${x}" y="2" width="28" height="28" rx="4"><title>free slot</title></rect>`;
    const label = [
      slot.keyId,
      `(${slot.state === 'other' ? 'not created by Signet' : slot.state})`,
      slot.name,
      slot.comment,
    ]
      .filter((part) => part !== null && part !== '')
      .join(' ');
    return html`<rect class="slot state-${slot.state}" x="${x}" y="2" width="28" height="28" rx="4" data-key-id="${slot.keyId}"><title>${label}</title></rect>`;
  });
  const level = group.used >= group.max ? 'full' : group.used >= group.max - 1 ? 'near' : 'ok';
  return html`<svg class="gauge" id="group-gauge" viewBox="0 0 ${group.max * 34} 32" width="${group.max * 34}" height="32" role="img" aria-label="${group.used} of ${group.max} key group slots used">${boxes}</svg>
<p class="gauge-text level-${level}"><strong>${group.used} of ${group.max}</strong> slots used (CloudFront's keys-per-group quota)</p>`;
}

function accountGauge(doc: StatusDocument): Markup {
  const { account } = doc.gauges;
  const own =
    doc.stage === null ? 0 : (account.byStage.find((entry) => entry.stage === doc.stage)?.count ?? 0);
  const classes = [
    ...Array<string>(own).fill('acct-own'),
    ...Array<string>(Math.max(0, account.used - own - account.other)).fill('acct-stage'),
    ...Array<string>(account.other).fill('acct-other'),
  ];
  const width = Math.max(account.max, account.used);
  const boxes = Array.from({ length: width }, (_, index) => {
    const cls = classes[index] ?? 'slot-free';
    return html`<rect class="slot ${cls}" x="${index * 20}" y="2" width="16" height="28" rx="3"></rect>`;
  });
  const level = account.used >= account.max ? 'full' : account.used >= account.max - 2 ? 'near' : 'ok';
  return html`<svg class="gauge" id="account-gauge" viewBox="0 0 ${width * 20} 32" width="${width * 20}" height="32" role="img" aria-label="${account.used} of ${account.max} public keys">${boxes}</svg>
<p class="gauge-text level-${level}"><strong>${account.used} of ${account.max}</strong> public keys in the account: ${account.summary}</p>`;
}

function findingsMarkup(doc: StatusDocument): Markup {
  if (doc.findings.length === 0)
    return html`<p class="ok" id="findings">No findings: nothing doctor checks is wrong.</p>`;
  const items = doc.findings.map(
    (finding) => html`<li class="finding sev-${finding.severity}" data-code="${finding.code}">
<p><span class="sev">${finding.severity}</span> <code>${finding.code}</code>${finding.keyId === null ? '' : html` <span class="mono">${finding.keyId}</span>`}</p>
<p>${finding.message}</p>
<p class="remedy">remedy: ${finding.remedy}</p>
</li>`,
  );
  return html`<ul class="findings" id="findings">${items}</ul>`;
}

function timingsMarkup(doc: StatusDocument): Markup {
  const t = doc.timings;
  const bound = t.maxStale + t.ttlMax + t.clockSkew;
  return html`<ul class="timings">
<li>Propagation wait before a key signs: <strong>${seconds(t.activationWait)}</strong>${
    t.activationWait > t.propagation
      ? html` (rotation.propagation says ${seconds(t.propagation)}; the longest wait honoured before is kept without a canary)`
      : ''
  }${t.canary ? ' and the canary must answer 200' : ''}</li>
<li>A URL outlives its key's last signature by at most <strong>${seconds(bound)}</strong> (cache.maxStale ${seconds(t.maxStale)} + ttl.max ${seconds(t.ttlMax)} + clockSkew ${seconds(t.clockSkew)}, as recorded per key)${
    t.removeAfter > 0 ? html`, then removeAfter ${seconds(t.removeAfter)}` : ''
  }</li>
<li>A new key every <strong>${seconds(t.rotateEvery)}</strong> (rotation.rotateEvery)</li>
</ul>`;
}

function seconds(value: number): string {
  if (value < 120) return `${value} s`;
  if (value < 7200) return `${Math.round(value / 60)} min`;
  if (value < 172_800) return `${Math.round(value / 3600)} h`;
  return `${Math.round(value / 86_400)} days`;
}

/** The KMS key a key signs through (signer: kms) and its state: `-` for a key held in the ring. */
function kmsCell(key: StatusDocument['keys'][number], when: (iso: string | null) => Markup): Markup {
  const kms = key.kms;
  if (kms === null) return html`-`;
  const state =
    kms.state === null
      ? html`<span class="muted">not read</span>`
      : kms.state === 'Enabled'
        ? html`Enabled`
        : kms.state === 'PendingDeletion'
          ? html`<strong>PendingDeletion</strong>${kms.deletionDate === null ? '' : html`, deleted ${when(kms.deletionDate)}`}`
          : html`<strong>${kms.state}</strong>`;
  return html`<span class="mono comment" data-kms-state="${kms.state ?? ''}">${kms.arn}</span><br>${state}`;
}

function keyTable(doc: StatusDocument): Markup {
  const when = (iso: string | null) => shortWhen(iso, doc.generatedAt);
  const rows = doc.keys.map(
    (key) => html`<tr class="state-${key.state}" data-key-id="${key.id ?? ''}" data-state="${key.state}">
<td class="mono">${key.id ?? '(not registered)'}</td>
<td><span class="badge state-${key.state}">${key.state}</span></td>
<td>${when(key.createdAt)}</td>
<td>${when(key.trustedAt)}</td>
<td>${when(key.activatedAt ?? key.activatesAt)}${key.activatedAt === null && key.activatesAt !== null ? ' (planned)' : ''}</td>
<td>${when(key.retiredAt)}</td>
<td>${key.validUntil === null ? html`<span class="muted">while it signs, +${key.validitySeconds === null ? '?' : seconds(key.validitySeconds)}</span>` : when(key.validUntil)}</td>
<td>${when(key.revokedAt ?? key.removedAt ?? key.removableAt)}${key.removedAt === null && key.revokedAt === null && key.removableAt !== null ? ' (planned)' : ''}</td>
<td>${key.state === 'removed' || key.state === 'revoked' ? '-' : key.inGroup ? 'yes' : html`<strong>no</strong>`}</td>
<td class="small">${key.name ?? ''}${key.comment === null ? '' : html`<br><span class="comment">${key.comment}</span>`}</td>
<td class="mono small">${key.fingerprint ?? '-'}</td>
<td class="small">${kmsCell(key, when)}</td>
</tr>`,
  );
  return html`<table class="keys" id="keys">
<caption>Times in UTC (${doc.generatedAt.slice(0, 10)} unless dated)</caption>
<thead><tr><th>Key</th><th>State</th><th>Created</th><th>Trusted</th><th>Active</th><th>Retired</th><th>URLs valid until</th><th>Removal</th><th>In group</th><th>CloudFront name, comment</th><th>Fingerprint</th><th>KMS key</th></tr></thead>
<tbody>${rows}</tbody>
</table>`;
}

function legend(): Markup {
  const items: [string, string][] = [
    ['seg-created', 'created, not in the key group yet'],
    ['seg-trusted', 'in the key group, propagating'],
    ['seg-active', 'active: signs'],
    ['seg-retiring', 'retiring: what it signed can still be valid'],
    ['seg-margin', 'removeAfter margin'],
    ['seg-projected', 'planned'],
  ];
  return html`<ul class="legend">${items.map(
    ([cls, text]) =>
      html`<li><svg width="18" height="10" aria-hidden="true"><rect class="${cls}" width="18" height="10"></rect></svg> ${text}</li>`,
  )}<li><svg width="10" height="12" aria-hidden="true"><rect class="mark-bound" x="4" width="2" height="12"></rect></svg> bound: URLs valid until</li><li><svg width="10" height="12" aria-hidden="true"><rect class="mark-removed" x="4" width="3" height="12"></rect></svg> removed or revoked</li></ul>`;
}

const WIDTH = 960;
const X0 = 200;
const X1 = 940;
const ROW = 30;
const TOP = 24;

interface Segment {
  readonly from: number;
  readonly to: number;
  readonly cls: string;
  readonly title: string;
}

/** The timeline: one bar per key from creation through trusted, active and retiring to removal. */
function timeline(doc: StatusDocument): Markup {
  const now = Date.parse(doc.generatedAt);
  // Keys that left the ring long ago (more than a rotation period, at least a day) are in the table
  // only: months of history would shrink the current rotation to a few pixels.
  const horizon = now - Math.max(doc.timings.rotateEvery, 86_400) * 1000;
  const keys = doc.keys.filter((key) => {
    if (key.state !== 'removed' && key.state !== 'revoked') return true;
    const left = Date.parse(key.revokedAt ?? key.removedAt ?? '');
    return Number.isFinite(left) && left >= horizon;
  });
  const older = doc.keys.length - keys.length;
  // The axis covers what happened and what is planned for the keys in the ring; the next rotation
  // (a month ahead, say) stretches it only when near, else its planned bar runs off the right edge.
  const nextAt = doc.next.at === null ? [] : [Date.parse(doc.next.at)];
  const core = [now, ...keys.flatMap(keyTimes), ...(doc.next.kind === 'introduce' ? [] : nextAt)];
  let start = Math.min(...core);
  let end = Math.max(...core);
  if (end - start < 60_000) end = start + 60_000;
  const reach = end + (end - start) * 1.5;
  const ahead = [
    ...keys.flatMap((key) => (key.rotationDueAt === null ? [] : [Date.parse(key.rotationDueAt)])),
    ...nextAt,
  ];
  for (const t of ahead) if (t <= reach) end = Math.max(end, t);
  const pad = (end - start) * 0.03;
  start -= pad;
  end += pad;
  const x = (t: number) => Math.min(X1, X0 + ((t - start) / (end - start)) * (X1 - X0));
  const height = TOP + Math.max(1, keys.length) * ROW + 8;
  const ticks = Array.from({ length: 5 }, (_, index) => start + ((end - start) * (index + 0.5)) / 5).map(
    (t) =>
      html`<line class="tick" x1="${f(x(t))}" x2="${f(x(t))}" y1="${TOP - 4}" y2="${height - 6}"></line><text class="axis" x="${f(x(t))}" y="${TOP - 8}" text-anchor="middle">${axisLabel(t, end - start)}</text>`,
  );
  const rows = keys.map((key, index) => {
    const y = TOP + index * ROW;
    const segments = segmentsOf(key, now).map(
      (segment) =>
        html`<rect class="${segment.cls}" x="${f(x(segment.from))}" y="${y + 8}" width="${f(Math.max(1.5, x(segment.to) - x(segment.from)))}" height="14"><title>${segment.title}</title></rect>`,
    );
    const marks: Markup[] = [];
    if (key.validUntil !== null) {
      marks.push(
        html`<rect class="mark-bound" x="${f(x(Date.parse(key.validUntil)) - 1)}" y="${y + 3}" width="2" height="24"><title>${key.id ?? ''}: URLs it signed valid until ${clock(key.validUntil)}</title></rect>`,
      );
    }
    const gone = key.revokedAt ?? key.removedAt;
    if (gone !== null) {
      marks.push(
        html`<rect class="mark-removed" x="${f(x(Date.parse(gone)) - 1.5)}" y="${y + 5}" width="3" height="20"><title>${key.state} ${clock(gone)}</title></rect>`,
      );
    }
    const beyond =
      key.rotationDueAt !== null && Date.parse(key.rotationDueAt) > end
        ? html`<text class="axis" x="${X1 + 4}" y="${y + 19}">→<title>next rotation starts ${clock(key.rotationDueAt)}</title></text>`
        : html``;
    const label = html`${beyond}<text class="label" x="8" y="${y + 19}">${key.id ?? '(not registered)'}</text><text class="label-state state-text-${key.state}" x="${X0 - 8}" y="${y + 19}" text-anchor="end">${key.state}</text>`;
    return html`<g class="row" data-key-id="${key.id ?? ''}" data-state="${key.state}">${label}${segments}${marks}</g>`;
  });
  const nextMark =
    doc.next.at === null || Date.parse(doc.next.at) > end
      ? html``
      : html`<line class="next-line" x1="${f(x(Date.parse(doc.next.at)))}" x2="${f(x(Date.parse(doc.next.at)))}" y1="${TOP - 2}" y2="${height - 4}"><title>next: ${doc.next.description} at ${clock(doc.next.at)}</title></line>`;
  const nowX = f(x(now));
  return html`<svg class="timeline" id="timeline" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" aria-label="Key timeline" data-start="${Math.round(start)}" data-end="${Math.round(end)}" data-x0="${X0}" data-x1="${X1}">
${ticks}${rows}${nextMark}<line class="now" x1="${nowX}" x2="${nowX}" y1="${TOP - 4}" y2="${height - 4}"><title>now</title></line>
</svg>${older === 0 ? '' : html`<p class="meta">${older} key(s) that left the ring earlier: in the table below.</p>`}`;
}

function keyTimes(key: StatusKey): number[] {
  return [
    key.createdAt,
    key.trustedAt,
    key.activatesAt,
    key.activatedAt,
    key.retiredAt,
    key.validUntil,
    key.removableAt,
    key.removedAt,
    key.revokedAt,
  ].flatMap((iso) => (iso === null ? [] : [Date.parse(iso)]));
}

/** A key's bar: what happened (solid) and what is planned (hatched), in order. */
export function segmentsOf(key: StatusKey, now: number): Segment[] {
  const t = (iso: string | null) => (iso === null ? undefined : Date.parse(iso));
  const out: Segment[] = [];
  const push = (from: number | undefined, to: number | undefined, cls: string, title: string) => {
    if (from === undefined || to === undefined) return;
    // `now` is read in whole seconds: a key activated this second still shows its (thin) bar.
    out.push({ from, to: Math.max(from, to), cls, title });
  };
  const created = t(key.createdAt);
  const trusted = t(key.trustedAt);
  const activated = t(key.activatedAt);
  const retired = t(key.retiredAt);
  const ended = t(key.revokedAt) ?? t(key.removedAt);
  push(
    created,
    trusted ?? activated ?? (key.state === 'pending' ? now : undefined),
    'seg-created',
    'created',
  );
  push(
    trusted,
    activated ?? (key.state === 'pending' ? now : undefined),
    'seg-trusted',
    'in the key group, propagating',
  );
  if (key.state === 'pending' && key.activatesAt !== null && t(key.activatesAt)! > now)
    push(now, t(key.activatesAt), 'seg-projected', `planned activation ${clock(key.activatesAt)}`);
  push(
    activated,
    retired ?? ended ?? (key.state === 'active' ? now : undefined),
    'seg-active',
    'active: signing',
  );
  if (key.state === 'active' && key.rotationDueAt !== null && t(key.rotationDueAt)! > now)
    push(now, t(key.rotationDueAt), 'seg-projected', `next rotation starts ${clock(key.rotationDueAt)}`);
  const validUntil = t(key.validUntil);
  if (key.state === 'retiring') {
    push(retired, validUntil, 'seg-retiring', 'retiring: URLs it signed can still be valid');
    push(validUntil, t(key.removableAt), 'seg-margin', 'removeAfter margin, then removal');
  } else {
    push(retired, ended, 'seg-retiring', 'retiring: URLs it signed could still be valid');
  }
  return out;
}

function axisLabel(t: number, span: number): string {
  const iso = new Date(t).toISOString();
  return span > 2 * 86_400_000 ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : `${iso.slice(11, 19)}`;
}

function f(value: number): string {
  return value.toFixed(1);
}

const STYLE = `
:root { color-scheme: light; --fg: #1f2933; --muted: #616e7c; --line: #d9e2ec; --active: #2f9e44;
  --trusted: #f0b429; --created: #9aa5b1; --retiring: #4c6ef5; --margin: #bac8ff; --removed: #e03131; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0 auto; padding: 16px 24px; max-width: 1500px; }
h1 { font-size: 20px; margin: 0; } h2 { font-size: 14px; margin: 16px 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.card h2 { margin-top: 0; }
.profile { font-family: ui-monospace, monospace; background: #f0f4f8; padding: 0 6px; border-radius: 4px; }
.meta { color: var(--muted); font-size: 12px; }
#banner { background: #fff3bf; border: 1px solid #f0b429; padding: 8px 12px; border-radius: 6px; }
.unavailable { background: #ffe3e3; border: 1px solid var(--removed); padding: 8px 12px; border-radius: 6px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 12px; margin: 12px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px; }
.columns { display: grid; grid-template-columns: minmax(0, 3fr) minmax(260px, 1fr); gap: 20px; }
.mono { font-family: ui-monospace, monospace; } .small { font-size: 12px; } .muted { color: var(--muted); }
.blocked { color: var(--removed); }
.timeline { border: 1px solid var(--line); border-radius: 8px; background: #fff; }
.timeline .label { font: 12px ui-monospace, monospace; fill: var(--fg); }
.timeline .label-state { font: 11px system-ui, sans-serif; fill: var(--muted); }
.timeline .axis { font: 11px system-ui, sans-serif; fill: var(--muted); }
.tick { stroke: var(--line); stroke-width: 1; }
.now { stroke: #000; stroke-width: 1.5; }
.next-line { stroke: var(--removed); stroke-width: 1.5; stroke-dasharray: 4 3; }
.seg-created { fill: var(--created); } .seg-trusted { fill: var(--trusted); } .seg-active { fill: var(--active); }
.seg-retiring { fill: var(--retiring); } .seg-margin { fill: var(--margin); }
.seg-projected { fill: #e9ecef; stroke: #adb5bd; stroke-dasharray: 3 2; }
.mark-bound { fill: #000; } .mark-removed { fill: var(--removed); }
.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; font-size: 12px; color: var(--muted); }
.timings { font-size: 13px; }
.slot { stroke: #829ab1; stroke-width: 1; } .slot-free { fill: #fff; stroke-dasharray: 3 2; }
.state-active { fill: var(--active); } .state-pending { fill: var(--trusted); } .state-retiring { fill: var(--retiring); }
.state-orphan, .state-other { fill: #f783ac; }
.acct-own { fill: var(--active); } .acct-stage { fill: #748ffc; } .acct-other { fill: #adb5bd; }
.gauge-text { margin: 4px 0 0; } .level-near { color: #b7791f; } .level-full { color: var(--removed); }
table.keys { border-collapse: collapse; width: 100%; margin-top: 12px; font-size: 12px; }
table.keys caption { text-align: left; color: var(--muted); }
.rel { color: var(--muted); white-space: nowrap; }
table.keys th, table.keys td { border-bottom: 1px solid var(--line); padding: 4px 6px; text-align: left; vertical-align: top; }
tr.state-removed, tr.state-revoked { color: var(--muted); }
.badge { display: inline-block; padding: 0 6px; border-radius: 10px; color: #fff; background: var(--created); font-size: 11px; }
.badge.state-active { background: var(--active); } .badge.state-pending { background: #b7791f; }
.badge.state-retiring { background: var(--retiring); } .badge.state-revoked, .badge.state-orphan { background: var(--removed); }
.comment { color: var(--muted); word-break: break-all; }
.findings { list-style: none; padding: 0; margin: 0; }
.finding { border-left: 4px solid var(--created); padding: 4px 8px; margin-bottom: 8px; background: #f8f9fa; }
.finding p { margin: 2px 0; } .finding .remedy { color: var(--muted); }
.sev-error { border-color: var(--removed); } .sev-warning { border-color: var(--trusted); } .sev-info { border-color: var(--retiring); }
.sev { font-weight: 600; text-transform: uppercase; font-size: 11px; }
.ok { color: var(--active); }
aside ol { font-size: 12px; font-family: ui-monospace, monospace; }
@media (max-width: 900px) { .columns { grid-template-columns: 1fr; } }
`;

const SCRIPT = `
(() => {
  'use strict';
  const banner = document.getElementById('banner');
  const events = document.getElementById('events');
  const readAt = document.getElementById('read-at');
  let root = document.getElementById('status');
  let version = root.dataset.version;
  let offset = root.dataset.generatedAt ? Date.parse(root.dataset.generatedAt) - Date.now() : 0;
  const serverNow = () => Date.now() + offset;
  const pollMs = () => Math.max(1, Number(root.dataset.poll) || 5) * 1000;
  const show = (text) => { banner.textContent = text; banner.hidden = false; };
  const hide = () => { banner.hidden = true; banner.textContent = ''; };
  const stamp = (ms) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
  const rel = (ms) => {
    const s = Math.round(Math.abs(ms) / 1000);
    const d = s < 120 ? s + ' s' : s < 7200 ? Math.round(s / 60) + ' min' : s < 172800 ? Math.round(s / 3600) + ' h' : Math.round(s / 86400) + ' days';
    return ms >= 0 ? 'in ' + d : d + ' ago';
  };
  const tick = () => {
    const now = serverNow();
    for (const el of document.querySelectorAll('[data-rel]')) el.textContent = '(' + rel(Date.parse(el.dataset.rel) - now) + ')';
    for (const svg of document.querySelectorAll('svg[data-start]')) {
      const start = Number(svg.dataset.start), end = Number(svg.dataset.end);
      const x0 = Number(svg.dataset.x0), x1 = Number(svg.dataset.x1);
      const line = svg.querySelector('.now');
      if (!line || !(end > start)) continue;
      const x = (x0 + Math.min(1, Math.max(0, (now - start) / (end - start))) * (x1 - x0)).toFixed(1);
      line.setAttribute('x1', x);
      line.setAttribute('x2', x);
    }
  };
  const note = (text) => {
    const item = document.createElement('li');
    const time = document.createElement('time');
    time.textContent = stamp(serverNow());
    item.append(time, ' ', text);
    events.prepend(item);
    while (events.children.length > 50) events.lastElementChild.remove();
  };
  const states = (value) => new Map((value || '').split(' ').filter(Boolean).map((pair) => {
    const at = pair.lastIndexOf(':');
    return [pair.slice(0, at), pair.slice(at + 1)];
  }));
  const swap = (text) => {
    const parsed = new DOMParser().parseFromString(text, 'text/html');
    const next = parsed.getElementById('status');
    if (!next) return;
    const before = root.dataset;
    const after = next.dataset;
    if (before.version !== 'error') {
      if (before.active !== after.active) note('active key: ' + (after.active || 'none') + (before.active ? ' (was ' + before.active + ')' : ''));
      const was = states(before.keys);
      const now = states(after.keys);
      for (const [key, state] of now) {
        if (!was.has(key)) note('key ' + key + ' appeared (' + state + ')');
        else if (was.get(key) !== state) note('key ' + key + ': ' + was.get(key) + ' -> ' + state);
      }
      for (const key of was.keys()) if (!now.has(key)) note('key ' + key + ' left the ring');
    }
    const adopted = document.adoptNode(next);
    root.replaceWith(adopted);
    root = adopted;
    version = root.dataset.version;
    tick();
  };
  const poll = async () => {
    try {
      const response = await fetch('status.json', { cache: 'no-store' });
      const body = await response.json();
      if (!response.ok) {
        show('Could not read the live state: ' + (body.detail || response.status) + (version === 'error' ? '' : ' Showing the last state read.'));
      } else {
        hide();
        offset = Date.parse(body.generatedAt) - Date.now();
        readAt.textContent = stamp(Date.parse(body.generatedAt));
        if (body.version !== version) {
          const fragment = await fetch('fragment?v=' + encodeURIComponent(body.version), { cache: 'no-store' });
          if (fragment.ok) swap(await fragment.text());
        }
      }
    } catch (error) {
      show('The status server does not answer (was signet status stopped?). Retrying every ' + pollMs() / 1000 + ' s.');
    }
    setTimeout(poll, pollMs());
  };
  tick();
  setInterval(tick, 1000);
  setTimeout(poll, pollMs());
})();
`;
