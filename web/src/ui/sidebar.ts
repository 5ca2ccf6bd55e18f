/**
 * The list of the user's conversations, newest first, with "New chat" and a search box; links are `#/s/<sessionId>`.
 * Each conversation can be renamed in place (Enter saves, Escape cancels) and deleted after a confirmation.
 */
import { MAX_TITLE_LENGTH, type SessionSummary } from "../../../runtime/protocol";
import type { SessionsPort } from "../chat/controller";
import { ConversationSearch } from "../chat/search";
import { confirmDialog } from "./confirm-dialog";
import { h, icon, ICONS } from "./dom";

export function sessionHref(sessionId: string): string {
  return `#/s/${encodeURIComponent(sessionId)}`;
}

export function displayTitle(title: string): string {
  return title.trim() === "" ? "Untitled chat" : title;
}

export interface SidebarHandlers {
  onNewChat: () => void;
  onRename: (sessionId: string, title: string) => void;
  onDelete: (sessionId: string) => void;
  /** Words for a screen reader only (the page's polite live region). */
  announce: (text: string) => void;
}

export class Sidebar implements SessionsPort {
  readonly root: HTMLElement;
  readonly newChat: HTMLButtonElement;
  /** What the page has loaded of each conversation, for the search. */
  readonly search = new ConversationSearch();
  private readonly searchBox: HTMLInputElement;
  private readonly searchNote: HTMLElement;
  private readonly list: HTMLUListElement;
  private readonly empty: HTMLElement;
  private sessions: readonly SessionSummary[] = [];
  private currentSessionId: string | null = null;
  /** The conversation being renamed, and its input (kept across re-renders so typing is never lost). */
  private editing: { sessionId: string; input: HTMLInputElement } | null = null;
  /** True while the list is being rebuilt: the rename box leaves and re-enters the page, which is no blur. */
  private drawing = false;

  constructor(
    private readonly handlers: SidebarHandlers,
    footer: HTMLElement,
  ) {
    this.newChat = h("button", { type: "button", class: "new-chat" }, icon(ICONS.plus), "New chat");
    this.newChat.addEventListener("click", handlers.onNewChat);
    this.searchBox = h("input", { type: "search", class: "session-search", "aria-label": "Search conversations", placeholder: "Search", autocomplete: "off", spellcheck: "false" });
    this.searchBox.addEventListener("input", () => this.announceMatches(this.draw()));
    this.searchBox.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && this.searchBox.value !== "") {
        event.stopPropagation();
        this.searchBox.value = "";
        this.announceMatches(this.draw());
      }
    });
    this.searchNote = h("p", { class: "muted small search-note", hidden: true }, "Searches titles, and the text of conversations opened on this page.");
    this.list = h("ul", { class: "session-list" });
    this.empty = h("p", { class: "muted small sidebar-empty" }, "No conversations yet.");
    this.root = h(
      "aside",
      { class: "sidebar", id: "sidebar" },
      h("div", { class: "sidebar-head" }, h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }), "Chat"), this.newChat),
      h("div", { class: "search", role: "search" }, this.searchBox, this.searchNote),
      h("nav", { class: "sessions", "aria-label": "Conversations" }, h("h2", { class: "sidebar-title" }, "Recent"), this.list, this.empty),
      footer,
    );
  }

  render(sessions: readonly SessionSummary[], currentSessionId: string | null): void {
    this.sessions = sessions;
    this.currentSessionId = currentSessionId;
    if (this.editing !== null && !sessions.some((s) => s.sessionId === this.editing!.sessionId)) this.editing = null;
    this.draw();
  }

  /** Re-filters after the loaded text of a conversation changed (only matters while a search is typed). */
  refreshSearch(): void {
    if (this.searchBox.value.trim() !== "") this.draw();
  }

  /** How many match, said through the page's polite live region (one announcement per change of the search). */
  private announceMatches(count: number): void {
    if (this.searchBox.value.trim() === "") this.handlers.announce("Showing all conversations.");
    else this.handlers.announce(count === 1 ? "1 conversation matches." : `${count} conversations match.`);
  }

  /** Rebuilds the list for the search as typed; returns how many conversations it shows. */
  private draw(): number {
    const query = this.searchBox.value.trim();
    const hits = this.search.filter(this.sessions, query);
    this.searchNote.hidden = query === "";
    this.empty.textContent = query === "" ? "No conversations yet." : `No conversation matches “${query}”.`;
    this.empty.hidden = hits.length > 0;
    const hadFocus = this.editing?.input === document.activeElement;
    this.drawing = true;
    try {
      this.list.replaceChildren(...hits.map((hit) => this.row(hit.session, hit.excerpt)));
      if (hadFocus) this.editing?.input.focus();
    } finally {
      this.drawing = false;
    }
    return hits.length;
  }

  private row(session: SessionSummary, excerpt: string | undefined): HTMLLIElement {
    const title = displayTitle(session.title);
    if (this.editing?.sessionId === session.sessionId) return h("li", { class: "session-row editing" }, this.editing.input);
    const rename = h("button", { type: "button", class: "ghost icon-button", "aria-label": `Rename “${title}”`, title: "Rename" }, icon(ICONS.pencil));
    const remove = h("button", { type: "button", class: "ghost icon-button", "aria-label": `Delete “${title}”`, title: "Delete" }, icon(ICONS.trash));
    rename.addEventListener("click", () => this.startRename(session));
    remove.addEventListener("click", () => void this.confirmDelete(session));
    return h(
      "li",
      { class: "session-row", "data-session-id": session.sessionId },
      h(
        "a",
        { href: sessionHref(session.sessionId), class: "session", "aria-current": session.sessionId === this.currentSessionId ? "page" : undefined, title: session.title },
        h("span", { class: "session-title" }, title),
        excerpt === undefined ? null : h("span", { class: "session-excerpt" }, excerpt),
        h("time", { datetime: session.updatedAt, class: "session-time" }, relativeTime(session.updatedAt)),
      ),
      h("div", { class: "session-actions" }, rename, remove),
    );
  }

  private startRename(session: SessionSummary): void {
    const input = h("input", {
      type: "text",
      class: "session-rename",
      "aria-label": `New title for “${displayTitle(session.title)}”`,
      maxlength: MAX_TITLE_LENGTH,
      value: session.title,
      spellcheck: "false",
    });
    let done = false;
    const finish = (save: boolean) => {
      if (done) return;
      done = true;
      const title = input.value.replace(/\s+/g, " ").trim();
      this.editing = null;
      // An empty title or an unchanged one keeps the old title (the server would refuse an empty one).
      if (save && title !== "" && title !== session.title) this.handlers.onRename(session.sessionId, title);
      this.draw();
      this.list.querySelector<HTMLElement>(`[data-session-id="${CSS.escape(session.sessionId)}"] a.session`)?.focus();
    };
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        finish(true);
      } else if (event.key === "Escape") {
        // Only the rename is cancelled (the sidebar stays open on a phone).
        event.stopPropagation();
        finish(false);
      }
    });
    input.addEventListener("blur", () => {
      if (!this.drawing) finish(true);
    });
    this.editing = { sessionId: session.sessionId, input };
    this.draw();
    input.focus();
    input.select();
  }

  private async confirmDelete(session: SessionSummary): Promise<void> {
    const yes = await confirmDialog({
      title: "Delete this conversation?",
      body: `“${displayTitle(session.title)}” and all its messages will be erased, also in your other tabs and devices. This cannot be undone.`,
      confirm: "Delete",
      danger: true,
    });
    if (yes) this.handlers.onDelete(session.sessionId);
  }
}

export function relativeTime(iso: string, now = Date.now()): string {
  const then = Date.parse(iso);
  if (Number.isNaN(then)) return "";
  const minutes = Math.round((now - then) / 60_000);
  if (minutes < 1) return "just now";
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  return new Date(then).toLocaleDateString(undefined, { month: "short", day: "numeric" });
}
