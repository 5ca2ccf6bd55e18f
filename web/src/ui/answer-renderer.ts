/**
 * Incremental rendering of a streaming answer. Re-parsing the whole answer on every delta costs O(n²) over an
 * answer; instead the finished blocks are rendered once and frozen, and only the unfinished tail is re-parsed,
 * at most once per animation frame. When the turn is done the whole answer is rendered once more, so the final
 * DOM is exactly what a one-shot render gives (loose lists, reference links).
 */
import { renderMarkdown } from "./markdown";
import { stableBoundary } from "./markdown-blocks";
import { enhanceCodeBlocks } from "./code-blocks";

export class AnswerRenderer {
  private readonly frozen: HTMLElement;
  private readonly tail: HTMLElement;
  private frozenLength = 0;
  private text = "";
  private frame: number | null = null;
  private finished = false;

  constructor(
    private readonly host: HTMLElement,
    private readonly onPaint: () => void = () => {},
  ) {
    this.frozen = document.createElement("div");
    this.tail = document.createElement("div");
    this.frozen.className = "md-part";
    this.tail.className = "md-part";
    host.replaceChildren(this.frozen, this.tail);
  }

  /** The whole answer so far; renders on the next animation frame. */
  update(text: string): void {
    this.text = text;
    if (this.finished || this.frame !== null) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.paint();
    });
  }

  /** The answer is final: one full render, no more frames. */
  finish(text: string): void {
    this.text = text;
    this.finished = true;
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    this.host.innerHTML = renderMarkdown(text);
    enhanceCodeBlocks(this.host);
    this.onPaint();
  }

  private paint(): void {
    if (this.finished) return;
    const boundary = stableBoundary(this.text);
    if (boundary > this.frozenLength) {
      const block = document.createElement("div");
      block.className = "md-part";
      block.innerHTML = renderMarkdown(this.text.slice(this.frozenLength, boundary));
      enhanceCodeBlocks(block);
      this.frozen.append(block);
      this.frozenLength = boundary;
    }
    this.tail.innerHTML = renderMarkdown(this.text.slice(this.frozenLength));
    this.onPaint();
  }
}
