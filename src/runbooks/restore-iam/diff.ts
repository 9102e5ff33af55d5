import type { RoleExport } from '../backup-iam/runbook';

/*
 * What differs between a role as an IAM export holds it and as IAM holds it now, as a list of
 * changes that would make IAM equal the export: the plan shows them, the steps apply them, and the
 * verify counts them again (0 when the restore is done). Pure functions: no AWS here.
 */

export type Change =
  /** The role is gone: it is created whole (trust, path, description, session, boundary, tags), then its policies. */
  | { kind: 'create' }
  | { kind: 'trust'; from: unknown; to: unknown }
  | { kind: 'settings'; from: { description?: string; maxSessionDuration: number }; to: { description?: string; maxSessionDuration: number } }
  | { kind: 'boundary'; from?: string; to?: string }
  | { kind: 'inline'; name: string; from?: unknown; to?: unknown }
  | { kind: 'attach'; arn: string; name: string }
  | { kind: 'detach'; arn: string; name: string }
  | { kind: 'tag'; key: string; from?: string; to: string }
  | { kind: 'untag'; key: string; from: string };

export interface RoleDiff {
  role: string;
  changes: Change[];
}

/** A customer-managed policy whose default document differs from the export, or which no longer exists. */
export interface PolicyDiff {
  arn: string;
  name: string;
  /** The live default document; undefined when the policy no longer exists. */
  from?: unknown;
  to: unknown;
  /** Named outside `iam.rolePrefix`: shown, never written (drbot's role may not change it). */
  outside: boolean;
}

const DEFAULT_MAX_SESSION = 3600;

/** JSON with object keys sorted at every level: two documents that mean the same text compare equal. */
export function canonical(v: unknown): string {
  return JSON.stringify(sortKeys(v));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v as Record<string, unknown>)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

export const sameDocument = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

const settingsOf = (r: RoleExport) => ({ ...(r.description ? { description: r.description } : {}), maxSessionDuration: r.maxSessionDuration ?? DEFAULT_MAX_SESSION });

/** The changes that make `live` equal `want` (the export); a missing live role is created first. */
export function diffRole(want: RoleExport, live: RoleExport | undefined): RoleDiff {
  const changes: Change[] = [];
  const base: RoleExport = live ?? { ...want, inlinePolicies: [], attachedPolicies: [] };
  if (!live) changes.push({ kind: 'create' });
  else {
    if (!sameDocument(want.trustPolicy, live.trustPolicy)) changes.push({ kind: 'trust', from: live.trustPolicy, to: want.trustPolicy });
    const [a, b] = [settingsOf(live), settingsOf(want)];
    if (a.description !== b.description || a.maxSessionDuration !== b.maxSessionDuration) changes.push({ kind: 'settings', from: a, to: b });
    if ((live.permissionsBoundary ?? '') !== (want.permissionsBoundary ?? '')) {
      changes.push({ kind: 'boundary', ...(live.permissionsBoundary ? { from: live.permissionsBoundary } : {}), ...(want.permissionsBoundary ? { to: want.permissionsBoundary } : {}) });
    }
  }
  const liveInline = new Map(base.inlinePolicies.map((p) => [p.name, p.document]));
  const wantInline = new Map(want.inlinePolicies.map((p) => [p.name, p.document]));
  for (const [name, doc] of wantInline) {
    if (!liveInline.has(name)) changes.push({ kind: 'inline', name, to: doc });
    else if (!sameDocument(doc, liveInline.get(name))) changes.push({ kind: 'inline', name, from: liveInline.get(name), to: doc });
  }
  for (const [name, doc] of liveInline) if (!wantInline.has(name)) changes.push({ kind: 'inline', name, from: doc });
  const liveAttached = new Set(base.attachedPolicies.map((p) => p.arn));
  const wantAttached = new Set(want.attachedPolicies.map((p) => p.arn));
  for (const p of want.attachedPolicies) if (!liveAttached.has(p.arn)) changes.push({ kind: 'attach', arn: p.arn, name: p.name });
  for (const p of base.attachedPolicies) if (!wantAttached.has(p.arn)) changes.push({ kind: 'detach', arn: p.arn, name: p.name });
  if (live) {
    const liveTags = new Map(live.tags.map((t) => [t.key, t.value]));
    const wantTags = new Map(want.tags.map((t) => [t.key, t.value]));
    for (const [key, value] of wantTags) {
      const now = liveTags.get(key);
      if (now !== value) changes.push({ kind: 'tag', key, ...(now !== undefined ? { from: now } : {}), to: value });
    }
    for (const [key, value] of liveTags) if (!wantTags.has(key)) changes.push({ kind: 'untag', key, from: value });
  }
  return { role: want.name, changes };
}

/** The live default document of an export's managed policy, compared; undefined when they match. */
export function diffPolicy(want: { arn: string; name: string; document: unknown }, live: { document: unknown } | undefined, prefix: string): PolicyDiff | undefined {
  if (live && sameDocument(want.document, live.document)) return undefined;
  const name = want.name || (want.arn.split('/').pop() ?? want.arn);
  return { arn: want.arn, name, ...(live ? { from: live.document } : {}), to: want.document, outside: !name.startsWith(prefix) };
}

/** AWS-managed policies (`arn:<partition>:iam::aws:policy/…`) are attached by ARN; their documents are AWS's. */
export const isAwsManaged = (arn: string): boolean => /^arn:[^:]+:iam::aws:policy\//.test(arn);

// ---- statement by statement -----------------------------------------------------------------------

/** A policy document's statements as a list (IAM allows one statement object instead of an array). */
function statementsOf(doc: unknown): unknown[] {
  const s = (doc as { Statement?: unknown } | null)?.Statement;
  if (s === undefined) return [];
  return Array.isArray(s) ? s : [s];
}

function sidOf(st: unknown): string | undefined {
  const sid = (st as { Sid?: unknown } | null)?.Sid;
  return typeof sid === 'string' && sid ? sid : undefined;
}

/** One line of a statement-level diff: `-` what IAM holds now, `+` what the export holds (what is written). */
export interface DiffLine {
  sign: '-' | '+' | ' ';
  text: string;
}

/**
 * Statement by statement: statements with the same Sid on both sides are paired, identical
 * statements are left out, and the rest show as removed (`-`, in IAM now) or written (`+`, from the
 * export). Top-level fields other than Statement (Version, Id) show the same way.
 */
export function statementDiff(from: unknown, to: unknown): DiffLine[] {
  const out: DiffLine[] = [];
  const top = (doc: unknown) => Object.fromEntries(Object.entries((doc ?? {}) as Record<string, unknown>).filter(([k]) => k !== 'Statement'));
  const [ta, tb] = [top(from), top(to)];
  for (const k of [...new Set([...Object.keys(ta), ...Object.keys(tb)])].sort()) {
    if (canonical(ta[k]) === canonical(tb[k])) continue;
    if (k in ta) out.push({ sign: '-', text: `${k}: ${canonical(ta[k])}` });
    if (k in tb) out.push({ sign: '+', text: `${k}: ${canonical(tb[k])}` });
  }
  const a = statementsOf(from).map((s, i) => ({ s, i, c: canonical(s), sid: sidOf(s) }));
  const b = statementsOf(to).map((s, i) => ({ s, i, c: canonical(s), sid: sidOf(s) }));
  // Identical statements (as a multiset) are not differences.
  const unmatchedA = [...a];
  const unmatchedB: typeof b = [];
  for (const x of b) {
    const j = unmatchedA.findIndex((y) => y.c === x.c);
    if (j >= 0) unmatchedA.splice(j, 1);
    else unmatchedB.push(x);
  }
  const label = (x: { i: number; sid?: string | undefined }) => (x.sid ? `Sid ${x.sid}` : `statement ${x.i + 1}`);
  // A statement changed under the same Sid reads as a pair; the rest as removed, then written.
  const added: typeof b = [];
  for (const x of unmatchedB) {
    const j = x.sid ? unmatchedA.findIndex((y) => y.sid === x.sid) : -1;
    const [y] = j >= 0 ? unmatchedA.splice(j, 1) : [];
    if (!y) {
      added.push(x);
      continue;
    }
    out.push({ sign: '-', text: `${label(y)}: ${y.c}` }, { sign: '+', text: `${label(x)}: ${x.c}` });
  }
  for (const y of unmatchedA) out.push({ sign: '-', text: `${label(y)}: ${y.c}` });
  for (const x of added) out.push({ sign: '+', text: `${label(x)}: ${x.c}` });
  if (!out.length && canonical(from) !== canonical(to)) out.push({ sign: ' ', text: 'the same statements, in another order or form (written as in the export)' });
  return out;
}
