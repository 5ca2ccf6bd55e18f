/**
 * The GitHub workflows: tests on every pull request and push, the offline plan on every pull request (posted by
 * plan-comment.yml), PR preview with a read-only role and deploy on main with a deploy role, both from OIDC.
 * Text checks over the YAML (the workflows are small and written in block style): the essentials that, if lost in
 * an edit, would silently stop tests or previews, drop the policy pack or leak credentials.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { expect } from "chai";

const ROOT = path.resolve(__dirname, "../..");
const WORKFLOWS = path.join(ROOT, ".github/workflows");
const read = (file: string) => readFileSync(path.join(WORKFLOWS, file), "utf8");

/** The lines of a block that starts at `header` (exact line) and ends before the next line indented as much or less. */
function block(text: string, header: RegExp): string {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => header.test(line));
  if (start < 0) throw new Error(`no block ${header}`);
  const indent = lines[start].search(/\S/);
  const end = lines.findIndex((line, i) => i > start && line.trim() !== "" && !line.trim().startsWith("#") && line.search(/\S/) <= indent);
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

/** The step (`- …` list item) that uses `action`, with its `with:` and `env:`. */
function step(job: string, action: RegExp): string {
  const steps = job.split(/\n(?=\s+- )/);
  const found = steps.find((s) => action.test(s));
  if (!found) throw new Error(`no step using ${action}`);
  return found;
}

/** The value of `key: value` in a block (first match, comments stripped). */
function value(text: string, key: string): string | undefined {
  const match = new RegExp(`^\\s*-?\\s*${key.replace(/[-.]/g, "\\$&")}:\\s*(.+?)\\s*(#.*)?$`, "m").exec(text);
  return match?.[1];
}

describe("GitHub workflows", () => {
  const preview = read("preview.yml");
  const deploy = read("deploy.yml");
  const test = read("test.yml");
  const planComment = read("plan-comment.yml");

  it("pins every action to a major version or a commit", () => {
    for (const file of readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f))) {
      const uses = [...read(file).matchAll(/uses:\s*(\S+)/g)].map((m) => m[1]);
      for (const action of uses) {
        if (action.startsWith("./")) expect(existsSync(path.join(ROOT, action)), `${file}: ${action}`).to.equal(true);
        else expect(action, file).to.match(/@(v\d+(\.\d+)*|[0-9a-f]{40})$/);
      }
    }
  });

  it("tests every pull request and every push (npm ci && npm test through .ci/run), and stays callable", () => {
    const on = block(test, /^on:/);
    expect(on).to.match(/^\s+pull_request:\s*$/m).and.match(/^\s+workflow_call:\s*$/m);
    // Pushes to main are tested by deploy.yml's call, before it deploys.
    expect(value(block(on, /^\s+push:/), "branches-ignore")).to.equal("[main]");
    expect(test).to.match(/run:\s*\.ci\/run/);
    expect(readFileSync(path.join(ROOT, ".ci/run"), "utf8")).to.match(/^npm ci\b/m).and.match(/^npm test$/m);
    expect(readFileSync(path.join(ROOT, ".nvmrc"), "utf8").trim()).to.match(/^22/);
  });

  it("deploys only after the tests pass", () => {
    expect(value(block(deploy, /^ {2}test:/), "uses")).to.equal("./.github/workflows/test.yml");
    expect(value(block(deploy, /^ {2}deploy:/), "needs")).to.equal("test");
  });

  it("previews same-repository pull requests with a read-only role of its own, the policy pack and a PR comment", () => {
    expect(block(preview, /^on:/)).to.match(/^\s+pull_request:/m).and.not.match(/pull_request_target/);
    const job = block(preview, /^ {2}preview:/);
    expect(value(job, "if")).to.equal("github.event.pull_request.head.repo.full_name == github.repository && vars.AWS_PREVIEW_ROLE_ARN != ''");
    expect(value(block(job, /^\s+permissions:/), "id-token")).to.equal("write");
    expect(value(block(job, /^\s+permissions:/), "pull-requests")).to.equal("write");
    const aws = step(job, /aws-actions\/configure-aws-credentials@/);
    expect(value(aws, "role-to-assume")).to.equal("${{ vars.AWS_PREVIEW_ROLE_ARN }}");
    const pulumi = step(job, /pulumi\/actions@/);
    expect(value(pulumi, "command")).to.equal("preview");
    expect(value(pulumi, "policyPacks")).to.equal("infra/policy");
    expect(value(pulumi, "comment-on-pr")).to.equal("true");
    expect(value(pulumi, "stack-name")).to.match(/^\$\{\{ vars\.\w+ \}\}$/);
    expect(job.indexOf("npm ci")).to.be.within(0, job.indexOf("pulumi/actions@"));
    expect(job.indexOf("npm run build:web"), "the program publishes dist/web").to.be.within(job.indexOf("npm ci"), job.indexOf("pulumi/actions@"));
    expect(job.indexOf("configure-aws-credentials@")).to.be.below(job.indexOf("pulumi/actions@"));
  });

  it("builds the offline plan for every pull request, forks included: no role, no secrets, no write token", () => {
    const job = block(preview, /^ {2}plan:/);
    expect(value(job, "if")).to.equal(undefined);
    expect(block(job, /^\s+permissions:/)).to.not.match(/write/);
    expect(job).to.not.match(/secrets\.|configure-aws-credentials|id-token/);
    const run = step(job, /npm run --silent plan/);
    expect(run).to.match(/npm run --silent plan -- --stack "\$\{stack:-dev\}" > plan\/plan\.md/);
    expect(run).to.contain('>> "$GITHUB_STEP_SUMMARY"').and.contain("> plan/pr-number");
    const upload = step(job, /actions\/upload-artifact@/);
    expect(value(upload, "name")).to.equal("offline-plan");
    expect(value(upload, "path")).to.equal("plan/");
  });

  it("posts the plan from the base repository's context, without running the pull request's code", () => {
    expect(block(planComment, /^on:/)).to.match(/workflow_run:/).and.match(/workflows: \[Preview\]/);
    expect(preview).to.match(/^name: Preview$/m);
    expect(value(planComment, "permissions")).to.equal("{}");
    const job = block(planComment, /^ {2}comment:/);
    expect(value(job, "if")).to.equal("github.event.workflow_run.event == 'pull_request'");
    expect(value(block(job, /^\s+permissions:/), "pull-requests")).to.equal("write");
    expect(job).to.not.match(/actions\/checkout|npm |node /);
    const download = step(job, /actions\/download-artifact@/);
    expect(value(download, "name")).to.equal("offline-plan");
    expect(value(download, "run-id")).to.equal("${{ github.event.workflow_run.id }}");
    const script = step(job, /actions\/github-script@/);
    expect(script).to.contain("pr.head.sha !== context.payload.workflow_run.head_sha");
    expect(script).to.match(/Number\.isInteger\(number\)/);
  });

  it("deploys main with `pulumi up`, its own deploy role, the policy pack, and never two at once", () => {
    const on = block(deploy, /^on:/);
    expect(block(on, /^\s+push:/)).to.match(/branches:\s*\[main\]/);
    const concurrency = block(deploy, /^concurrency:/);
    expect(value(concurrency, "group")).to.match(/^deploy-/);
    expect(value(concurrency, "cancel-in-progress")).to.equal("false");
    const job = block(deploy, /^ {2}deploy:/);
    expect(value(block(job, /^\s+permissions:/), "id-token")).to.equal("write");
    expect(value(step(job, /aws-actions\/configure-aws-credentials@/), "role-to-assume")).to.equal("${{ vars.AWS_DEPLOY_ROLE_ARN }}");
    expect(job.indexOf("npm run build:web"), "the program publishes dist/web").to.be.within(job.indexOf("npm ci"), job.indexOf("pulumi/actions@"));
    expect(job.indexOf("configure-aws-credentials@")).to.be.below(job.indexOf("pulumi/actions@"));
    const pulumi = step(job, /pulumi\/actions@/);
    expect(value(pulumi, "command")).to.equal("up");
    expect(value(pulumi, "policyPacks")).to.equal("infra/policy");
    expect(value(pulumi, "stack-name")).to.match(/^\$\{\{ vars\.\w+ \}\}$/);
  });

  it("documents both roles in the README: variable, OIDC subject it is trusted for, and access", () => {
    const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme).to.match(/\| `AWS_PREVIEW_ROLE_ARN` \| `repo:<owner>\/<repo>:pull_request` \| read-only/);
    expect(readme).to.match(/\| `AWS_DEPLOY_ROLE_ARN` \| `repo:<owner>\/<repo>:ref:refs\/heads\/main` \|/);
    for (const workflow of [preview, deploy]) expect(workflow).to.not.match(/vars\.AWS_ROLE_ARN\b/);
  });

  it("points at a policy pack folder the Pulumi CLI can load, and stores no static AWS keys", () => {
    for (const file of ["PulumiPolicy.yaml", "package.json", "index.ts"]) {
      expect(existsSync(path.join(ROOT, "infra/policy", file)), file).to.equal(true);
    }
    expect(readFileSync(path.join(ROOT, "infra/policy/PulumiPolicy.yaml"), "utf8")).to.match(/^runtime: nodejs$/m);
    for (const workflow of [preview, deploy, test, planComment]) {
      expect(workflow).to.not.match(/aws-access-key-id|aws-secret-access-key|AWS_SECRET_ACCESS_KEY/);
    }
  });
});
