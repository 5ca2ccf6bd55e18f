/** One turn of the conversation in the DOM: a user message, or an answer with its actions and details. */
import { canContinue, type TurnView } from "../chat/turns";
import { ANSWER_ICONS, messageEditor, timeElement, versionSwitcher } from "./answer-controls";
import { AnswerRenderer } from "./answer-renderer";
import { copyText } from "./clipboard";
import { h, icon, ICONS, srOnly } from "./dom";

export interface TurnContext {
  generating: boolean;
  isLastAnswer: boolean;
  onRegenerate: () => void;
  /** Sends an edited message; answers a reason when it cannot be sent. */
  onEdit: (key: string, text: string) => string | null;
  onContinue: (key: string) => void;
  onVersion: (key: string, index: number) => void;
  /** Called after the answer's DOM changed (auto-scroll follows it). */
  onPaint: () => void;
}

const STOP_NOTES: Partial<Record<TurnView["status"], string>> = {
  stopped: "Stopped",
  guardrail: "Blocked by the content guardrail",
  error: "The answer did not complete",
};

export class TurnElement {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  private readonly note: HTMLElement;
  private readonly actions: HTMLElement | null = null;
  private readonly details: HTMLDetailsElement | null = null;
  private renderer: AnswerRenderer | null = null;
  private finishedText: string | null = null;
  private signature = "";
  private status: TurnView["status"] | null = null;
  /** The user turn's actions (Edit), and whether its editor is open. */
  private readonly userActions: HTMLElement | null = null;
  private editing = false;

  constructor(turn: TurnView, private readonly context: () => TurnContext) {
    if (turn.role === "user") {
      this.body = h("div", { class: "bubble" });
      this.note = h("div", { class: "turn-note" });
      this.userActions = h("div", { class: "turn-actions user-actions" });
      this.el = h("article", { class: "turn user", "aria-label": "You said" }, this.body, this.note, this.userActions);
    } else {
      this.body = h("div", { class: "markdown" });
      this.note = h("div", { class: "turn-note" });
      this.actions = h("div", { class: "turn-actions" });
      this.details = h("details", { class: "turn-details" });
      this.el = h(
        "article",
        { class: "turn assistant", "aria-label": "Answer" },
        h("div", { class: "avatar", "aria-hidden": "true" }, "AI"),
        h("div", { class: "answer" }, this.body, this.note, this.actions, this.details),
      );
    }
    this.el.dataset.key = turn.key;
  }

  /** Brings the element up to date with the turn (cheap when nothing visible changed). */
  update(turn: TurnView): void {
    if (turn.turnId !== undefined) this.el.dataset.turnId = turn.turnId;
    this.el.dataset.status = turn.status;
    const ctx = this.context();
    const signature = JSON.stringify([turn.status, turn.error, turn.usage, turn.ttftMs, turn.region, turn.version, turn.stopReason, turn.createdAt, turn.turnId, ctx.isLastAnswer, ctx.generating, turn.role === "user" ? turn.text : ""]);
    const finalNow = turn.status !== "pending" && turn.status !== "streaming";
    if (turn.role === "assistant" && finalNow && this.finishedText !== turn.text) {
      this.finishedText = turn.text;
      this.answerRenderer().finish(turn.text);
    } else if (turn.role === "assistant" && !finalNow && turn.text !== "" && this.finishedText === null) {
      this.answerRenderer().update(turn.text);
    }
    if (signature === this.signature) return;
    this.signature = signature;
    this.status = turn.status;
    if (turn.role === "user") this.renderUser(turn);
    else this.renderAnswer(turn, ctx);
  }

  /** Streaming text: rendered on the next animation frame. */
  stream(text: string): void {
    // A continued answer streams again after its final render: a fresh renderer picks it up from its whole text.
    if (this.finishedText !== null) this.renderer = null;
    this.finishedText = null;
    this.el.dataset.status = "streaming";
    this.el.classList.add("streaming");
    this.el.querySelector(".thinking")?.remove();
    this.answerRenderer().update(text);
  }

  get currentStatus(): TurnView["status"] | null {
    return this.status;
  }

  private answerRenderer(): AnswerRenderer {
    this.renderer ??= new AnswerRenderer(this.body, () => this.context().onPaint());
    return this.renderer;
  }

  private renderUser(turn: TurnView): void {
    if (this.editing) return;
    this.body.textContent = turn.text;
    this.el.classList.toggle("failed", turn.status === "error");
    this.note.replaceChildren();
    this.appendTime(turn);
    if (turn.status === "pending") this.note.append(h("span", { class: "muted" }, "Sending…"));
    if (turn.error !== undefined) this.note.append(h("span", { class: "error-text", role: "alert" }, turn.error));
    const ctx = this.context();
    this.userActions!.replaceChildren();
    if (turn.turnId !== undefined && !ctx.generating && turn.status === "complete") {
      const edit = h("button", { type: "button", class: "ghost small" }, icon(ANSWER_ICONS.edit), "Edit");
      edit.addEventListener("click", () => this.openEditor(turn));
      this.userActions!.append(edit);
    }
  }

  private openEditor(turn: TurnView): void {
    const restore = () => {
      this.editing = false;
      editor.root.replaceWith(this.body);
      this.signature = "";
      this.update(turn);
      this.userActions!.querySelector("button")?.focus();
    };
    const editor = messageEditor(turn.text, (text) => {
      const reason = this.context().onEdit(turn.key, text);
      if (reason === null && text.trim() === turn.text) restore();
      return reason;
    }, restore);
    this.editing = true;
    this.userActions!.replaceChildren();
    this.body.replaceWith(editor.root);
    editor.focus();
  }

  private appendTime(turn: TurnView): void {
    const time = turn.createdAt === undefined ? null : timeElement(turn.createdAt);
    if (time !== null) this.note.append(time);
  }

  private renderAnswer(turn: TurnView, ctx: TurnContext): void {
    const active = turn.status === "pending" || turn.status === "streaming";
    this.el.classList.toggle("streaming", active);
    this.el.setAttribute("aria-busy", String(active));
    if (turn.status === "pending" && turn.text === "" && this.body.querySelector(".thinking") === null) {
      this.body.replaceChildren(h("div", { class: "thinking" }, h("span"), h("span"), h("span"), srOnly("Thinking…")));
    }
    this.note.replaceChildren();
    this.appendTime(turn);
    const stopNote = STOP_NOTES[turn.status];
    if (stopNote !== undefined) this.note.append(h("span", { class: `badge ${turn.status}` }, stopNote));
    if (turn.status === "complete" && turn.stopReason === "max_tokens") this.note.append(h("span", { class: "badge" }, "Reached the length limit"));
    if (turn.error !== undefined) this.note.append(h("span", { class: "error-text", role: "alert" }, turn.error));

    this.actions!.replaceChildren();
    if (!active) {
      const copyLabel = h("span", {}, "Copy");
      const copy = h("button", { type: "button", class: "ghost small" }, icon(ICONS.copy), copyLabel);
      copy.addEventListener("click", () => void copyText(turn.text, copyLabel, "Copy"));
      if (turn.text !== "") this.actions!.append(copy);
      if (!ctx.generating && canContinue(turn)) {
        const more = h("button", { type: "button", class: "ghost small" }, icon(ANSWER_ICONS.continue), "Continue");
        more.addEventListener("click", () => ctx.onContinue(turn.key));
        this.actions!.append(more);
      }
      if (ctx.isLastAnswer && !ctx.generating) {
        const regenerate = h("button", { type: "button", class: "ghost small" }, icon(ICONS.regenerate), "Regenerate");
        regenerate.addEventListener("click", () => ctx.onRegenerate());
        this.actions!.append(regenerate);
      }
    }
    // Earlier versions of a regenerated answer stay reachable: "‹ 2 of 3 ›".
    if (turn.version !== undefined && turn.version.count > 1) {
      this.actions!.prepend(versionSwitcher(turn.version, active || ctx.generating || turn.version.latestTurnId === undefined, (index) => ctx.onVersion(turn.key, index)));
    }
    this.renderDetails(turn, active);
  }

  private renderDetails(turn: TurnView, active: boolean): void {
    const details = this.details!;
    const rows: [string, string][] = [];
    if (turn.ttftMs !== undefined) rows.push(["Time to first token", turn.ttftMs === null ? "no text generated" : `${turn.ttftMs} ms`]);
    if (turn.usage !== undefined) {
      rows.push(["Input tokens", String(turn.usage.inputTokens)]);
      rows.push(["Output tokens", String(turn.usage.outputTokens)]);
    }
    if (turn.stopReason !== undefined) rows.push(["Stop reason", turn.stopReason]);
    if (turn.region !== undefined) rows.push(["Region", turn.region]);
    if (turn.model !== undefined) rows.push(["Model", turn.model]);
    details.hidden = active || rows.length === 0;
    const open = details.open;
    details.replaceChildren(
      h("summary", {}, "Details"),
      h("dl", {}, ...rows.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])),
    );
    details.open = open;
  }
}
