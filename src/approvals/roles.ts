import type { DrConfig, Role } from '../config/schema';
import { ForbiddenError } from '../errors';
import type { RequiredRole } from '../runbooks/verb';

/** Roles are cumulative: an approver may do what an operator may, an operator what a viewer may. */
const RANK: Record<Role, number> = { viewer: 1, operator: 2, approver: 3 };

export interface RoleLookup {
  fresh?: boolean;
}

/** Looks up the members of a Slack user group (usergroups.users.list). */
export type GroupMembers = (groupId: string) => Promise<string[]>;

const GROUP_TTL_MS = 5 * 60_000;
/** A destructive decision (approve, reject) asks Slack again unless it asked this recently. */
export const FRESH_TTL_MS = 10_000;
/** When Slack cannot be asked, last known membership is trusted this long, then nobody is. */
const GROUP_STALE_MAX_MS = 15 * 60_000;

/**
 * Answers "what may this Slack user do" from the config. User-group IDs (S…) are resolved
 * through Slack and cached for five minutes, so a busy channel costs one lookup per group.
 */
export class RoleResolver {
  private readonly groups = new Map<string, { at: number; members: Set<string> }>();

  constructor(
    private readonly config: DrConfig,
    private readonly groupMembers: GroupMembers,
    private readonly now: () => number = Date.now,
  ) {}

  private async members(groupId: string, fresh: boolean): Promise<Set<string>> {
    const hit = this.groups.get(groupId);
    if (hit && this.now() - hit.at < (fresh ? FRESH_TTL_MS : GROUP_TTL_MS)) return hit.members;
    try {
      const members = new Set(await this.groupMembers(groupId));
      this.groups.set(groupId, { at: this.now(), members });
      return members;
    } catch {
      // Fail closed, but keep serving the last known membership if Slack is briefly unavailable;
      // nothing is cached on failure, so the next request asks Slack again.
      // A fresh lookup (a destructive decision) never falls back: someone removed from the group
      // minutes ago must not approve because Slack is slow to answer.
      return !fresh && hit && this.now() - hit.at < GROUP_STALE_MAX_MS ? hit.members : new Set();
    }
  }

  private async holds(user: string, role: Role, fresh: boolean): Promise<boolean> {
    for (const principal of this.config.slack.roles[role]) {
      if (principal === user) return true;
      if (principal.startsWith('S') && (await this.members(principal, fresh)).has(user)) return true;
    }
    return false;
  }

  /** The highest role the user holds, or undefined. */
  async roleOf(user: string, opts: RoleLookup = {}): Promise<Role | undefined> {
    for (const role of ['approver', 'operator', 'viewer'] as const) {
      if (await this.holds(user, role, opts.fresh ?? false)) return role;
    }
    return undefined;
  }

  /** `fresh` for destructive decisions: group membership at most seconds old, and no stale answer when Slack fails. */
  async has(user: string, required: RequiredRole, opts: RoleLookup = {}): Promise<boolean> {
    if (required === 'anyone') return true;
    const role = await this.roleOf(user, opts);
    return role !== undefined && RANK[role] >= RANK[required];
  }

  /**
   * The one way drbot says no for a missing role, for commands and buttons alike:
   * "You may not run `/dr status`: it needs the *viewer* role, and you have no drbot role."
   */
  async refusal(user: string, required: RequiredRole, what: string): Promise<string> {
    return refusalText(required, what, await this.roleOf(user));
  }

  /** Throws ForbiddenError with the words a user sees when the role is missing. */
  async require(user: string, required: RequiredRole, what: string): Promise<void> {
    if (await this.has(user, required)) return;
    throw new ForbiddenError(await this.refusal(user, required, what));
  }
}

/** See RoleResolver.refusal. */
export function refusalText(required: RequiredRole, what: string, role: Role | undefined): string {
  return `You may not ${what}: it needs the *${required}* role, and you ${role ? `are ${/^[aeiou]/.test(role) ? 'an' : 'a'} ${role}` : 'have no drbot role'}.`;
}
