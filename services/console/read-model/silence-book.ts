/**
 * Silences as the console knows them: folded from the silence and unsilence
 * commands on eip.alert-commands.v1, the same commands the rules service applies.
 * Used to list silences and to mark alerts as muted on the board.
 */
import type { AlertCommand } from '../../../shared/contracts/events.ts';
import type { AlertView, SilenceView } from '../api/schemas.ts';
import { silenceInForce, silenceMatches } from '../../../shared/contracts/silences.ts';

export class SilenceBook {
  private readonly silences = new Map<string, SilenceView>();

  apply(command: AlertCommand): boolean {
    if (command.kind === 'silence') {
      this.silences.set(command.silenceId, {
        silenceId: command.silenceId,
        park: command.matchers.park ?? '*',
        matchers: command.matchers,
        startsAt: command.startsAt,
        endsAt: command.endsAt,
        ...(command.recurrence && { recurrence: command.recurrence }),
        by: command.by,
        ...(command.comment !== undefined && { comment: command.comment }),
      });
      return true;
    }
    if (command.kind === 'unsilence') return this.silences.delete(command.silenceId);
    return false;
  }

  get(id: string): SilenceView | undefined {
    return this.silences.get(id);
  }

  /** Silences not yet expired, optionally of some parks only. */
  current(now: number, parks?: ReadonlySet<string>): SilenceView[] {
    return [...this.silences.values()]
      .filter((s) => s.endsAt > now && (!parks || parks.has(s.park)))
      .sort((a, b) => a.startsAt - b.startsAt);
  }

  /** True when a silence in force at `now` matches the alert. */
  mutes(alert: AlertView, now: number): boolean {
    for (const s of this.silences.values()) if (silenceInForce(s, now) && silenceMatches(s.matchers, alert)) return true;
    return false;
  }

  /** Forgets silences that ended before `now`. */
  prune(now: number): void {
    for (const [id, s] of this.silences) if (s.endsAt <= now) this.silences.delete(id);
  }
}
