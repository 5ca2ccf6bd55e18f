import * as fs from "node:fs";
import * as path from "node:path";
import { expect } from "chai";
import * as yaml from "js-yaml";
import { CONFIG_NAMESPACE } from "../../infra/config";
import { projectProblems, stackProblems, type ProjectFile, type StackFile } from "./pulumi-cli-rules";

const root = path.join(__dirname, "..", "..");
/** Config namespaces of the providers the program uses (`aws:region`), and the engine's own (`pulumi:tags`). */
const PROVIDERS = ["aws", "pulumi"];

const load = <T>(file: string) => yaml.load(fs.readFileSync(path.join(root, file), "utf8")) as T;
const stackFiles = () => fs.readdirSync(root).filter((file) => /^Pulumi\.[^.]+\.ya?ml$/.test(file));

describe("Pulumi CLI rules (project.go Project.Validate, config.go validateStackConfigValues)", () => {
  it("loads Pulumi.yaml: schema attributes only on project keys, items on arrays, defaults of their type", () => {
    expect(projectProblems(load<ProjectFile>("Pulumi.yaml"))).to.deep.equal([]);
  });

  it("names the project after the config namespace the program reads (chat:*)", () => {
    expect(load<ProjectFile>("Pulumi.yaml").name).to.equal(CONFIG_NAMESPACE);
  });

  it("has at least the dev stack, and every Pulumi.<stack>.yaml passes: keys declared or a provider's, values of their type", () => {
    const project = load<ProjectFile>("Pulumi.yaml");
    expect(stackFiles()).to.include("Pulumi.dev.yaml");
    for (const file of stackFiles()) {
      const stack = file.replace(/^Pulumi\.|\.ya?ml$/g, "");
      expect(stackProblems(project, stack, load<StackFile>(file), PROVIDERS), file).to.deep.equal([]);
    }
  });

  describe("the rules themselves", () => {
    it("refuses a typed or defaulted key outside the project's namespace (the CLI's own wording)", () => {
      const project: ProjectFile = { name: "bedrock-streaming-chat", config: { "chat:regions": { type: "array", items: { type: "string" }, default: ["us-east-1"] } } };
      expect(projectProblems(project)).to.deep.equal(["Configuration key 'chat:regions' is not namespaced by the project and should not define a type"]);
      expect(projectProblems({ name: "x", config: { "aws:region": { default: "us-east-1" } } })[0]).to.match(/should not define a default value/);
      expect(projectProblems({ name: "x", config: { "aws:region": {} } })[0]).to.match(/must provide an attribute 'value'/);
      expect(projectProblems({ name: "x", config: { "aws:region": { value: "us-east-1" } } })).to.deep.equal([]);
    });

    it("refuses an array without items, a default of another type, and default with value", () => {
      expect(projectProblems({ name: "chat", config: { "chat:regions": { type: "array", default: [] } } })[0]).to.match(/does not specify the underlying type via the 'items'/);
      expect(projectProblems({ name: "chat", config: { "chat:n": { type: "integer", default: "ten" } } })[0]).to.match(/not of the expected type 'integer'/);
      expect(projectProblems({ name: "chat", config: { "chat:r": { type: "array", items: { type: "string" }, default: [1] } } })[0]).to.match(/'array<string>'/);
      expect(projectProblems({ name: "chat", config: { "chat:a": { default: 1, value: 2 } } })[0]).to.match(/both a 'default' and 'value'/);
      expect(projectProblems({ name: "chat", config: { n: { type: "integer", default: "10" }, b: { type: "boolean", default: "true" } } })).to.deep.equal([]);
      expect(projectProblems({ name: "bad name" })[0]).to.match(/invalid project name/);
    });

    it("refuses stack values of the wrong type and keys nobody declares", () => {
      const project: ProjectFile = { name: "chat", config: { "chat:regions": { type: "array", items: { type: "string" } }, "chat:n": { type: "integer" } } };
      expect(stackProblems(project, "s", { config: { "chat:regions": "us-east-1" } }, PROVIDERS)[0]).to.match(/'chat:regions' must be of type 'array<string>'/);
      expect(stackProblems(project, "s", { config: { "chat:n": 2.5 } }, PROVIDERS)[0]).to.match(/'chat:n' must be of type 'integer'/);
      expect(stackProblems(project, "s", { config: { "chat:regon": ["us-east-1"] } }, PROVIDERS)[0]).to.match(/'chat:regon' is not declared/);
      expect(stackProblems(project, "s", { config: { "azure:location": "x" } }, PROVIDERS)[0]).to.match(/neither the project 'chat' nor a provider/);
      expect(stackProblems(project, "s", { config: { "chat:n": "3", "aws:region": "us-east-1", "chat:regions": { secure: "v1:abc" } } }, PROVIDERS)).to.deep.equal([]);
    });
  });
});
