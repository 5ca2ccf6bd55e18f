/**
 * The page's polite live region for the streaming answer: whole sentences in batches while it streams, the rest
 * and "Answer complete" at the end, so a screen reader follows along without being flooded by every delta.
 */
import { AnnounceBatcher } from "./announce-batcher";

export class Announcer {
  private batcher: AnnounceBatcher | null = null;
  private key: string | null = null;

  constructor(private readonly region: HTMLElement) {}

  streamed(key: string, added: string): void {
    if (this.key !== key) {
      this.key = key;
      this.batcher = new AnnounceBatcher();
    }
    const batch = this.batcher!.push(added, performance.now());
    if (batch !== null && batch !== "") this.say(batch);
  }

  finished(key: string, statusWords: string): void {
    const rest = this.key === key && this.batcher !== null ? this.batcher.flush() : "";
    this.key = null;
    this.batcher = null;
    this.say(rest === "" ? statusWords : `${rest} ${statusWords}`);
  }

  say(text: string): void {
    // Replacing the text node (not appending) keeps the region short; each change is one announcement.
    this.region.textContent = text;
  }
}
