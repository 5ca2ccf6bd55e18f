/**
 * The conversation pane: turns, auto-scroll that follows the answer until the user scrolls up (then a "Jump to
 * latest" button), the empty state, and notices that belong to no turn.
 */
import type { ConversationPort, ConversationSnapshot } from "../chat/controller";
import type { TurnView } from "../chat/turns";
import type { Announcer } from "./announcer";
import { h, icon, ICONS } from "./dom";
import { TurnElement, type TurnContext } from "./turn-element";

export interface ConversationHandlers {
  onRegenerate: () => void;
  onEdit: (key: string, text: string) => string | null;
  onContinue: (key: string) => void;
  onVersion: (key: string, index: number) => void;
  onLoadMore: () => void;
  onSuggestion: (text: string) => void;
}

/** Within this many pixels of the bottom counts as "at the bottom": auto-scroll keeps following. */
const FOLLOW_SLACK_PX = 48;

const SUGGESTIONS = [
  "Explain WebSockets vs. server-sent events in a table",
  "Write a TypeScript function that retries with exponential backoff",
  "Summarize how DynamoDB global tables replicate",
];

const FINAL_WORDS: Record<string, string> = {
  complete: "Answer complete.",
  stopped: "Answer stopped.",
  guardrail: "Answer blocked by the content guardrail.",
  error: "The answer did not complete.",
};

export class ConversationView implements ConversationPort {
  readonly root: HTMLElement;
  private readonly scroller: HTMLElement;
  private readonly thread: HTMLElement;
  private readonly empty: HTMLElement;
  private readonly earlier: HTMLButtonElement;
  private readonly jump: HTMLButtonElement;
  private readonly notices: HTMLElement;
  private readonly elements = new Map<string, TurnElement>();
  private snapshot: ConversationSnapshot | null = null;
  private follow = true;
  private scrollQueued = false;
  private lastTop = 0;

  constructor(
    private readonly handlers: ConversationHandlers,
    private readonly announcer: Announcer,
    emptyTitle: string,
  ) {
    this.thread = h("div", { class: "thread" });
    this.earlier = h("button", { type: "button", class: "ghost load-earlier", hidden: true }, "Load more messages");
    this.earlier.addEventListener("click", () => handlers.onLoadMore());
    const suggestions = h("div", { class: "suggestions" });
    for (const text of SUGGESTIONS) {
      const button = h("button", { type: "button", class: "suggestion" }, text);
      button.addEventListener("click", () => handlers.onSuggestion(text));
      suggestions.append(button);
    }
    this.empty = h("div", { class: "empty" }, h("h2", {}, emptyTitle), h("p", { class: "muted" }, "Ask anything. Answers stream in as they are written."), suggestions);
    this.scroller = h("div", { class: "scroller" }, h("div", { class: "thread-wrap" }, this.earlier, this.empty, this.thread));
    this.jump = h("button", { type: "button", class: "jump", hidden: true, "aria-label": "Jump to latest" }, icon(ICONS.down));
    this.jump.addEventListener("click", () => {
      this.follow = true;
      this.scrollToEnd("smooth");
    });
    this.notices = h("div", { class: "notices" });
    this.root = h("section", { class: "conversation", "aria-label": "Conversation" }, this.scroller, this.jump, this.notices);
    // Scroll events arrive a frame late, when more text may already have made the page taller: so "the user
    // scrolled away" means the position moved up, not "we are no longer at the end".
    this.scroller.addEventListener(
      "scroll",
      () => {
        const top = this.scroller.scrollTop;
        if (this.distanceFromEnd() <= FOLLOW_SLACK_PX) this.follow = true;
        else if (top < this.lastTop - 2) this.follow = false;
        this.lastTop = top;
        this.jump.hidden = this.follow;
      },
      { passive: true },
    );
  }

  render(snapshot: ConversationSnapshot): void {
    const previous = this.snapshot;
    this.snapshot = snapshot;
    if (previous !== null && previous.sessionId !== snapshot.sessionId && snapshot.turns.length === 0) this.follow = true;
    const wanted = new Set(snapshot.turns.map((t) => t.key));
    for (const [key, element] of this.elements) {
      if (!wanted.has(key)) {
        element.el.remove();
        this.elements.delete(key);
      }
    }
    let cursor: Element | null = this.thread.firstElementChild;
    for (const turn of snapshot.turns) {
      let element = this.elements.get(turn.key);
      if (element === undefined) {
        element = new TurnElement(turn, () => this.contextFor(turn.key));
        this.elements.set(turn.key, element);
      }
      const before = element.currentStatus;
      element.update(turn);
      if (element.el !== cursor) this.thread.insertBefore(element.el, cursor);
      else cursor = cursor.nextElementSibling;
      this.announceTransition(turn, before);
    }
    this.empty.hidden = snapshot.turns.length > 0 || snapshot.loadingHistory;
    this.thread.setAttribute("aria-busy", String(snapshot.loadingHistory));
    this.earlier.hidden = !snapshot.moreHistory;
    this.queueScroll();
  }

  streamText(key: string, text: string, added: string): void {
    this.elements.get(key)?.stream(text);
    this.announcer.streamed(key, added);
  }

  notice(message: string): void {
    const close = h("button", { type: "button", class: "ghost small", "aria-label": "Dismiss" }, icon(ICONS.close));
    const item = h("div", { class: "notice", role: "alert" }, h("span", {}, message), close);
    close.addEventListener("click", () => item.remove());
    this.notices.append(item);
    setTimeout(() => item.remove(), 10_000);
  }

  /** Scrolls to the end if following (after a paint, a new turn, or a history load). */
  queueScroll(): void {
    if (!this.follow || this.scrollQueued) return;
    this.scrollQueued = true;
    requestAnimationFrame(() => {
      this.scrollQueued = false;
      if (this.follow) this.scrollToEnd("auto");
    });
  }

  private contextFor(key: string): TurnContext {
    const snapshot = this.snapshot;
    return {
      generating: snapshot?.generatingKey != null,
      isLastAnswer: snapshot?.lastAnswerKey === key,
      onRegenerate: this.handlers.onRegenerate,
      onEdit: this.handlers.onEdit,
      onContinue: this.handlers.onContinue,
      onVersion: this.handlers.onVersion,
      onPaint: () => this.queueScroll(),
    };
  }

  private announceTransition(turn: TurnView, before: TurnView["status"] | null): void {
    if (turn.role !== "assistant" || (before !== "pending" && before !== "streaming")) return;
    const words = FINAL_WORDS[turn.status];
    if (words !== undefined) this.announcer.finished(turn.key, turn.error !== undefined ? `${words} ${turn.error}` : words);
  }

  private distanceFromEnd(): number {
    return this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight;
  }

  private scrollToEnd(behavior: ScrollBehavior): void {
    this.scroller.scrollTo({ top: this.scroller.scrollHeight, behavior });
  }
}
