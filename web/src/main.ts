/** Entry point: theme, config, sign-in, then the chat. */
import "./styles.css";
import { LocalAuth } from "./auth/local";
import { describeFailure } from "./net/failure-words";
import { loadConfig } from "./config";
import { startChat } from "./ui/app";
import { cognitoSignIn, fatal, localSignIn } from "./ui/sign-in";
import { applyTheme, storedTheme } from "./ui/theme";
import type { WebConfig } from "../../runtime/protocol";

applyTheme(storedTheme());

async function main(app: HTMLElement): Promise<void> {
  let config: WebConfig;
  try {
    config = await loadConfig();
  } catch (error) {
    app.replaceChildren(fatal(messageOf(error)));
    return;
  }
  document.title = config.emulator ? "Chat · local" : "Chat";
  const auth = config.auth;
  if (auth.mode === "local") {
    const local = new LocalAuth(auth.tokenUrl);
    const showSignIn = () => {
      app.replaceChildren(
        localSignIn(async (name) => {
          try {
            startChat(app, config, await local.signIn(name), showSignIn);
            return null;
          } catch (error) {
            return messageOf(error);
          }
        }, config.emulator),
      );
      app.removeAttribute("aria-busy");
    };
    const user = local.restore();
    if (user === null) showSignIn();
    else startChat(app, config, user, showSignIn);
    return;
  }
  // Loaded only for Cognito: the local dev sign-in never downloads the OIDC client.
  const { CognitoAuth } = await import("./auth/cognito");
  const cognito = new CognitoAuth(auth);
  let problem: string | null = null;
  const user = await cognito.restore().catch((error: unknown) => {
    problem = messageOf(error);
    return null;
  });
  const showSignIn = () => {
    app.replaceChildren(cognitoSignIn(() => void cognito.signIn(), problem));
    app.removeAttribute("aria-busy");
  };
  if (user === null) showSignIn();
  else startChat(app, config, user, showSignIn);
}

function messageOf(error: unknown): string {
  return describeFailure(error);
}

void main(document.getElementById("app")!);
