/** The signed-in page: wires the connection, the chat controller and the views together. */
import type { WebConfig } from "../../../runtime/protocol";
import type { SignedInUser } from "../auth/types";
import { ChatController } from "../chat/controller";
import { ChatConnection } from "../net/connection";
import { Announcer } from "./announcer";
import { Composer } from "./composer";
import { ConversationView } from "./conversation-view";
import { stopOnEscape } from "./escape-stops";
import { h, icon, ICONS } from "./dom";
import { ExportMenu } from "./export-menu";
import { Sidebar, displayTitle, sessionHref } from "./sidebar";
import { ConnectionStatus } from "./status";
import { themeToggle } from "./theme";
import { UsageMeter } from "./usage-meter";

export function startChat(app: HTMLElement, config: WebConfig, user: SignedInUser, onSignedOut: () => void): void {
  // Listeners on window/document live as long as this signed-in page: sign-out removes them all.
  const lifetime = new AbortController();
  const announcerRegion = h("div", { class: "sr-only", "aria-live": "polite", "aria-atomic": "true", id: "announcer" });
  const announcer = new Announcer(announcerRegion);

  const signOut = h("button", { type: "button", class: "ghost small" }, icon(ICONS.signOut), "Sign out");
  const usage = new UsageMeter();
  const footer = h(
    "div",
    { class: "sidebar-foot" },
    usage.root,
    h("div", { class: "user" }, h("span", { class: "user-avatar", "aria-hidden": "true" }, initials(user.displayName)), h("span", { class: "user-name" }, user.displayName)),
    h("div", { class: "foot-actions" }, themeToggle(), signOut),
  );

  const layout = h("div", { class: "layout" });
  const closeSidebar = () => setSidebarOpen(false);
  // At once, not on the address's hashchange (a task later): a message typed right after the click belongs to the new
  // chat, and the hashchange then finds it already open (openFromHash).
  const newChat = () => {
    closeSidebar();
    controller.openSession(null);
    if (location.hash !== "#/" && location.hash !== "") location.hash = "#/";
    composer.input.focus();
  };
  const sidebar = new Sidebar(
    {
      onNewChat: newChat,
      onRename: (sessionId, title) => controller.renameSession(sessionId, title),
      announce: (text) => announcer.say(text),
      onDelete: (sessionId) => {
        const wasOpen = controller.currentSessionId === sessionId;
        sidebar.search.forget(sessionId);
        controller.deleteSession(sessionId);
        announcer.say("Conversation deleted.");
        if (wasOpen) composer.input.focus();
      },
    },
    footer,
  );
  const exportMenu = new ExportMenu({ session: () => controller.currentSession, turns: () => controller.exportTurns() });
  /** The tab's title follows the open conversation. */
  const baseTitle = document.title;
  const showTitle = () => {
    const session = controller.currentSession;
    document.title = session === undefined ? baseTitle : `${displayTitle(session.title)} · Chat`;
    exportMenu.update();
  };
  const conversation = new ConversationView(
    {
      onRegenerate: () => controller.regenerate(),
      onEdit: (key, text) => controller.editMessage(key, text),
      onContinue: (key) => controller.continueAnswer(key),
      onVersion: (key, index) => controller.showVersion(key, index),
      onLoadMore: () => controller.loadMore(),
      onSuggestion: (text) => composer.setText(text),
    },
    announcer,
    "How can I help?",
  );
  const composer = new Composer(
    {
      onSend: (text) => controller.sendMessage(text),
      onStop: () => controller.stop(),
    },
    config.emulator ? "Enter to send · Shift+Enter for a new line" : "Enter to send · Shift+Enter for a new line · Answers can be wrong: check what matters.",
  );

  const controller = new ChatController({
    send: (frame) => connection.send(frame),
    answered: (id) => connection.answered(id),
    conversation: {
      render: (snapshot) => {
        conversation.render(snapshot);
        composer.setGenerating(snapshot.generatingKey !== null);
        if (snapshot.sessionId !== null) {
          sidebar.search.remember(snapshot.sessionId, snapshot.turns);
          sidebar.refreshSearch();
        }
        showTitle();
      },
      streamText: (key, text, added) => conversation.streamText(key, text, added),
      notice: (message) => conversation.notice(message),
      announce: (message) => announcer.say(message),
    },
    sessions: {
      render: (sessions, currentSessionId) => {
        sidebar.render(sessions, currentSessionId);
        showTitle();
      },
    },
    onSendRefused: (text) => composer.restoreDraft(text),
    onSessionChange: (sessionId) => {
      const hash = sessionId === null ? "#/" : sessionHref(sessionId);
      if (location.hash !== hash) history.replaceState(null, "", hash);
    },
  });

  const status = new ConnectionStatus(() => connection.connectNow());
  const connection = new ChatConnection({
    regions: config.regions,
    token: (force) => user.token(force),
    onFrame: (frame) => {
      if (frame.type === "usage") return usage.show(frame);
      controller.handleFrame(frame);
      // The budget moves when an answer ends, and a refusal for it says to look again.
      if (frame.type === "turn.done" || (frame.type === "error" && frame.code === "quota_exceeded")) connection.send({ action: "usage" });
    },
    onState: (state) => status.show(state),
    onOpen: (reconnected) => {
      controller.connected(reconnected);
      connection.send({ action: "usage" });
    },
  });

  const menu = h("button", { type: "button", class: "ghost icon-button menu", "aria-label": "Conversations", "aria-expanded": "false", "aria-controls": "sidebar" }, icon(ICONS.menu));
  const setSidebarOpen = (open: boolean) => {
    layout.classList.toggle("sidebar-open", open);
    menu.setAttribute("aria-expanded", String(open));
    if (open) sidebar.newChat.focus();
  };
  menu.addEventListener("click", () => setSidebarOpen(!layout.classList.contains("sidebar-open")));
  const scrim = h("div", { class: "scrim", "aria-hidden": "true" });
  scrim.addEventListener("click", closeSidebar);
  sidebar.root.addEventListener("click", (event) => {
    if (event.target instanceof Element && event.target.closest("a.session") !== null) closeSidebar();
  });
  document.addEventListener(
    "keydown",
    (event) => {
      // A dialog's Escape is its own (it cancels the dialog).
      if (event.target instanceof Element && event.target.closest("dialog") !== null) return;
      if (event.key === "Escape" && layout.classList.contains("sidebar-open")) {
        closeSidebar();
        menu.focus();
      }
    },
    { signal: lifetime.signal },
  );

  stopOnEscape({ controller, announce: (words) => announcer.say(words), signal: lifetime.signal });

  const header = h(
    "header",
    { class: "topbar" },
    menu,
    h("div", { class: "model" }, h("span", { class: "model-label" }, config.modelLabel || "Chat"), config.emulator ? h("span", { class: "tag local" }, "Local emulator") : null),
    exportMenu.root,
    status.root,
  );
  const banner = config.emulator ? h("p", { class: "emulator-note", role: "note" }, "Answers on this page come from the local emulator, not from a real model.") : null;
  layout.append(sidebar.root, scrim, h("main", { class: "main" }, header, banner, conversation.root, composer.root), announcerRegion);
  app.replaceChildren(layout);
  app.removeAttribute("aria-busy");

  signOut.addEventListener("click", () => {
    lifetime.abort();
    connection.stop();
    history.replaceState(null, "", "#/");
    void user.signOut().then(onSignedOut);
  });

  const sessionInHash = (): string | null => {
    const match = /^#\/s\/(.+)$/.exec(location.hash);
    return match === null ? null : decodeURIComponent(match[1]!);
  };
  const openFromHash = () => {
    const sessionId = sessionInHash();
    // New chat opens at once and then changes the address: this finds the new chat already open, and opening it again
    // would drop a first message sent in between.
    if (sessionId === null && controller.currentSessionId === null) return;
    controller.openSession(sessionId);
  };
  window.addEventListener("hashchange", openFromHash, { signal: lifetime.signal });
  // Back to this tab: the list may have changed in another one (a rename, a delete, a new conversation).
  document.addEventListener(
    "visibilitychange",
    () => {
      if (document.visibilityState === "visible") connection.send({ action: "sessions" });
    },
    { signal: lifetime.signal },
  );
  controller.openSession(sessionInHash());
  connection.start();
  composer.input.focus();
}

function initials(name: string): string {
  const parts = name.replace(/@.*/, "").split(/[\s._-]+/).filter(Boolean);
  return ((parts[0]?.[0] ?? "?") + (parts[1]?.[0] ?? "")).toUpperCase();
}
