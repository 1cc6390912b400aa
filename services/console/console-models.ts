/** The console's in-memory read models, built from the bus by LiveFeeds. */
import { AlertBoard } from './read-model/alert-board.ts';
import { DeadLetterLog } from './read-model/dead-letter-log.ts';
import { MeterHealthBook } from './read-model/meter-health.ts';
import { SilenceBook } from './read-model/silence-book.ts';
import { SubmissionLog } from './read-model/submission-log.ts';

export interface ConsoleModels {
  alerts: AlertBoard;
  silences: SilenceBook;
  health: MeterHealthBook;
  deadLetters: DeadLetterLog;
  submissions: SubmissionLog;
}

export function createModels(options: { deadLettersKept: number; historyPerAlert: number; submissionsPerStation?: number }): ConsoleModels {
  return {
    alerts: new AlertBoard(options.historyPerAlert),
    silences: new SilenceBook(),
    health: new MeterHealthBook(),
    deadLetters: new DeadLetterLog(options.deadLettersKept),
    submissions: new SubmissionLog(options.submissionsPerStation),
  };
}
