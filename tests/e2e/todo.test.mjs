// The example todo app (examples/todo) end to end in headless Chromium: stratus starts the
// app from its serverless.yml; the browser signs in with a token from the built-in issuer,
// adds, edits, completes and deletes todos through the HTTP API (JWT authorizer, scopes),
// uploads an attachment through a presigned URL from the REST API (TOKEN authorizer), and
// after a reload sees the counters the stream consumer keeps and the attachment's metadata
// the Python S3 trigger recorded. A failing step leaves a screenshot in
// tests/e2e/screenshots/. Debian's chromium, driven by playwright-core (no browser download).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const bin = process.env.STRATUS_BIN || join(root, "build", "emulator", "stratus");
const example = join(root, "examples", "todo");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

// The example's handler dependencies, as its setup installs them.
function npmCi(dir) {
  const stamp = join(dir, "node_modules", ".stratus-installed-lock");
  const lock = readFileSync(join(dir, "package-lock.json"), "utf8");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === lock) return;
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--silent"], { cwd: dir, stdio: "inherit" });
  assert.equal(r.status, 0, "npm ci in " + dir);
  writeFileSync(stamp, lock);
}

async function startApp() {
  // A copy of the app, so its data dir and any edits stay out of the tree.
  const tmp = mkdtempSync(join(tmpdir(), "stratus-e2e-"));
  const app = join(tmp, "todo");
  cpSync(example, app, { recursive: true, filter: (src) => !/node_modules|\.stratus/.test(src) });
  symlinkSync(join(example, "node_modules"), join(app, "node_modules"));
  const help = spawnSync(bin, ["start", "--help"], { encoding: "utf8" }).stdout;
  const args = ["start", app, "--port", "0", "--site-port", "0", "--data-dir", join(tmp, "data"), "--log-level", "warn"];
  if (help.includes("--api-port")) args.push("--api-port", "0");
  const proc = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  const stderr = [];
  proc.stderr.on("data", (c) => stderr.push(c));
  const banner = [];
  await new Promise((resolve, reject) => {
    proc.once("exit", (code) => reject(new Error(`stratus exited with ${code}: ${Buffer.concat(stderr)}`)));
    createInterface({ input: proc.stdout }).on("line", (line) => {
      banner.push(line);
      if (line.startsWith("  data:")) resolve();
    });
  });
  const aws = /listening on (http:\/\/\S+)/.exec(banner[0])[1].replace("localhost", "127.0.0.1");
  const site = banner.map((l) => /^ {2}site: (http:\/\/\S+)/.exec(l)).find(Boolean)?.[1];
  return {
    aws, site, banner, stderr,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once("exit", r));
        proc.kill("SIGTERM");
        await exited;
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

test("todo app in a browser", { timeout: 180_000 }, async (t) => {
  npmCi(example);
  const app = await startApp();
  t.after(() => app.stop());
  const info = await (await fetch(app.aws + "/_stratus/app")).json();
  if (!info.apis.every((a) => a.url)) {
    t.skip("this build of stratus has no API Gateway: the app's APIs are not served");
    return;
  }
  assert.ok(app.site, "the banner names the site URL:\n" + app.banner.join("\n"));

  // A fresh profile (playwright passes it as --user-data-dir), flags for a sandboxless,
  // offline machine.
  const profile = mkdtempSync(join(tmpdir(), "stratus-chromium-"));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  t.after(async () => {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  });
  const page = browser.pages()[0] ?? await browser.newPage();
  const log = [];
  page.on("console", (m) => log.push(`console.${m.type()}: ${m.text()}`));
  page.on("pageerror", (e) => log.push("pageerror: " + e.message));
  page.on("requestfailed", (r) => log.push(`requestfailed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));

  let step = "start";
  const shots = join(here, "screenshots");
  const run = async (name, fn) => {
    step = name;
    try {
      await fn();
    } catch (err) {
      mkdirSync(shots, { recursive: true });
      const file = join(shots, `todo-${name.replace(/\W+/g, "-")}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
      err.message += `\n  step: ${name}; screenshot: ${file}\n  browser: ${log.join("\n  ")}\n  stratus: ${Buffer.concat(app.stderr).toString().slice(-4000)}`;
      throw err;
    }
  };
  const todo = (title) => page.locator('[data-test="todo"]', { hasText: title });
  const counter = (name) => page.locator(`[data-test="count-${name}"]`);
  // Counters and attachments come from asynchronous triggers: reload until they show.
  const eventually = async (check, ms = 30_000) => {
    const deadline = Date.now() + ms;
    for (;;) {
      try {
        await check();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await page.reload();
        await page.locator('[data-test="counters"]').waitFor();
      }
    }
  };

  await run("open the site", async () => {
    await page.goto(app.site + "/");
    await page.locator('[data-test="signin"]').waitFor();
  });
  await run("sign in", async () => {
    await page.fill('[data-test="signin-name"]', "alice");
    await page.click('[data-test="signin"]');
    await assert.doesNotReject(page.locator('[data-test="user"]', { hasText: "alice" }).waitFor());
  });
  await run("add todos", async () => {
    for (const title of ["buy milk", "write report", "call bob"]) {
      await page.fill('[data-test="new-title"]', title);
      await page.click('[data-test="add"]');
      await todo(title).waitFor();
    }
    assert.equal(await page.locator('[data-test="todo"]').count(), 3);
  });
  await run("edit a todo", async () => {
    await todo("write report").locator('[data-test="edit"]').click();
    await page.fill('[data-test="edit-title"]', "write the report");
    await page.click('[data-test="save"]');
    await todo("write the report").waitFor();
  });
  await run("complete a todo", async () => {
    await todo("buy milk").locator('[data-test="toggle"]').check();
    await page.locator('li.done', { hasText: "buy milk" }).waitFor();
  });
  await run("delete a todo", async () => {
    await todo("call bob").locator('[data-test="delete"]').click();
    await todo("call bob").waitFor({ state: "detached" });
  });
  await run("upload an attachment", async () => {
    // The upload is done when the browser's PUT to the presigned URL is answered.
    const put = page.waitForResponse((r) => r.request().method() === "PUT" && r.url().includes("todo-dev-attachments"));
    await todo("write the report").locator('[data-test="file"]').setInputFiles({
      name: "notes.txt", mimeType: "text/plain", buffer: Buffer.from("hello attachment\n"),
    });
    assert.equal((await put).status(), 200);
    assert.equal(await page.locator('[data-test="error"]').count(), 0, "no error shown");
  });
  await run("reload: counters and attachment metadata", async () => {
    await page.reload();
    await eventually(async () => {
      assert.equal(await counter("total").textContent(), "2");
      assert.equal(await counter("done").textContent(), "1");
      const a = await todo("write the report").locator('[data-test="attachment"]').textContent({ timeout: 500 });
      assert.match(a, /notes\.txt \(17 B, text\/plain\)/);
    });
  });
  await run("archive done todos", async () => {
    const r = spawnSync(bin, ["invoke", "archiveDone", "--port", new URL(app.aws).port, "--data", '{"olderThanSeconds": 0}'], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { archived: 1 });
    await eventually(async () => {
      assert.equal(await counter("archived").textContent(), "1");
      assert.equal(await todo("buy milk").count(), 0);
    });
  });
  await run("sign out and back in", async () => {
    await page.click('[data-test="signout"]');
    await page.locator('[data-test="signin"]').waitFor();
    await page.fill('[data-test="signin-name"]', "bob");
    await page.click('[data-test="signin"]');
    await page.locator('[data-test="user"]', { hasText: "bob" }).waitFor();
    assert.equal(await page.locator('[data-test="todo"]').count(), 0, "bob sees none of alice's todos");
  });
  assert.ok(step);
});
