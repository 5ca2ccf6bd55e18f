/** The lazily loaded chunk of ./highlight.ts: highlight.js core, a few common languages, and their colours. */
import hljs from "highlight.js/lib/core";
import bash from "highlight.js/lib/languages/bash";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import "./highlight.css";

export function highlighter(): (code: string, language: string) => string | undefined {
  const languages = { bash, css, diff, go, java, javascript, json, python, rust, sql, typescript, xml, yaml };
  for (const [name, language] of Object.entries(languages)) hljs.registerLanguage(name, language);
  hljs.registerAliases(["shell", "console"], { languageName: "bash" });
  return (code, language) => (hljs.getLanguage(language) === undefined ? undefined : hljs.highlight(code, { language, ignoreIllegals: true }).value);
}
