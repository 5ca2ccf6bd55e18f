/** Copies text and confirms in the label itself for a moment ("Copied"), which screen readers also hear. */
export async function copyText(text: string, label: HTMLElement, idleLabel: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
    label.textContent = "Copied";
  } catch {
    label.textContent = "Copy failed";
  }
  setTimeout(() => {
    label.textContent = idleLabel;
  }, 1500);
}
