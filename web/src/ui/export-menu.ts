/**
 * "Export" in the top bar: the open conversation as a Markdown or a JSON file (downloaded; built in the page from
 * what it has loaded, no request to the server). A `<details>` disclosure: keyboard and screen readers get it free.
 */
import type { SessionSummary, TurnRecord } from "../../../runtime/protocol";
import { exportFileName, exportJson, exportMarkdown } from "../chat/export";
import { h, icon, ICONS } from "./dom";

export interface ExportSource {
  session(): SessionSummary | undefined;
  turns(): TurnRecord[];
}

export class ExportMenu {
  readonly root: HTMLDetailsElement;

  constructor(private readonly source: ExportSource) {
    const markdown = h("button", { type: "button", class: "ghost small" }, "Markdown (.md)");
    const json = h("button", { type: "button", class: "ghost small" }, "JSON (.json)");
    markdown.addEventListener("click", () => this.download("md"));
    json.addEventListener("click", () => this.download("json"));
    this.root = h(
      "details",
      { class: "export", hidden: true },
      h("summary", { class: "ghost small", "aria-label": "Export this conversation" }, icon(ICONS.download), h("span", { class: "export-label" }, "Export")),
      h("div", { class: "export-menu" }, markdown, json),
    );
  }

  /** Shown only for a saved conversation with something in it. */
  update(): void {
    this.root.hidden = this.source.session() === undefined || this.source.turns().length === 0;
    if (this.root.hidden) this.root.open = false;
  }

  private download(kind: "md" | "json"): void {
    const session = this.source.session();
    if (session === undefined) return;
    const turns = this.source.turns();
    const text = kind === "md" ? exportMarkdown(session, turns) : exportJson(session, turns);
    const blob = new Blob([text], { type: kind === "md" ? "text/markdown;charset=utf-8" : "application/json" });
    const url = URL.createObjectURL(blob);
    const link = h("a", { href: url, download: exportFileName(session.title, kind), hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
    // The download has started from the object URL; it can go once this task is over.
    setTimeout(() => URL.revokeObjectURL(url), 0);
    this.root.open = false;
  }
}
