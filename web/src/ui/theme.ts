/** Light, dark, or the system's choice (prefers-color-scheme), remembered in this browser. */
import { h, icon, ICONS } from "./dom";

export type ThemeChoice = "system" | "light" | "dark";
const KEY = "chat.theme";
const ORDER: ThemeChoice[] = ["system", "light", "dark"];

export function storedTheme(): ThemeChoice {
  const value = localStorage.getItem(KEY);
  return value === "light" || value === "dark" ? value : "system";
}

export function applyTheme(choice: ThemeChoice): void {
  if (choice === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = choice;
  if (choice === "system") localStorage.removeItem(KEY);
  else localStorage.setItem(KEY, choice);
}

/** A button that cycles system → light → dark; its name says the current choice. */
export function themeToggle(): HTMLButtonElement {
  const button = h("button", { type: "button", class: "ghost small theme-toggle" });
  const paint = (choice: ThemeChoice) => {
    const label = choice === "system" ? "System" : choice === "light" ? "Light" : "Dark";
    button.replaceChildren(icon(choice === "system" ? ICONS.system : choice === "light" ? ICONS.sun : ICONS.moon), h("span", {}, `Theme: ${label}`));
    button.title = "Change theme";
  };
  paint(storedTheme());
  button.addEventListener("click", () => {
    const next = ORDER[(ORDER.indexOf(storedTheme()) + 1) % ORDER.length]!;
    applyTheme(next);
    paint(next);
  });
  return button;
}
