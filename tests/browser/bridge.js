// A line-oriented bridge from the Python tests to a real browser: Debian's chromium,
// driven by playwright-core. Reads one JSON command per line on stdin, answers one JSON
// line on stdout: {"ok": true, "value": ...} or {"ok": false, "error": "..."}.
// Commands: goto, click, fill, select, check, text, attr, count, wait (a JS predicate
// polled in the page), eval, post (a form POST with the page's cookies), url,
// screenshot, cookies, setCookies, newContext, close.
"use strict";

const readline = require("readline");
const { chromium } = require("playwright-core");

const EXECUTABLE = process.env.CHROMIUM || "/usr/bin/chromium";

async function main() {
  const browser = await chromium.launch({
    executablePath: EXECUTABLE,
    args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
  });
  let context, page;
  const fresh = async () => {
    if (context) await context.close();
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    page = await context.newPage();
    page.setDefaultTimeout(60000);
  };
  await fresh();
  const commands = {
    newContext: async () => fresh(),
    goto: async ({ url }) => {
      const response = await page.goto(url);
      return { status: response ? response.status() : null, url: page.url() };
    },
    click: async ({ selector }) => {
      await page.locator(selector).first().click();
      await page.waitForLoadState("load");
      return page.url();
    },
    fill: async ({ selector, value }) => page.locator(selector).first().fill(value),
    select: async ({ selector, value }) => page.locator(selector).first().selectOption(value),
    check: async ({ selector }) => page.locator(selector).first().check(),
    text: async ({ selector }) => page.locator(selector).first().innerText(),
    attr: async ({ selector, name }) => page.locator(selector).first().getAttribute(name),
    count: async ({ selector }) => page.locator(selector).count(),
    // Polls the predicate (a function's source, called with `arg`) until it is truthy.
    // Evaluated from outside the page, as waitForFunction's in-page eval is barred by
    // the console's Content-Security-Policy.
    wait: async ({ predicate, arg, timeout }) => {
      const expression = `(${predicate})(${JSON.stringify(arg === undefined ? null : arg)})`;
      const deadline = Date.now() + (timeout || 60000);
      for (;;) {
        let value = null;
        try {
          value = await page.evaluate(expression);
        } catch (error) {
          // A navigation in progress: try again.
        }
        if (value) return value;
        if (Date.now() > deadline) throw new Error("timed out waiting for " + expression);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    // With `arg`, `expression` is a function's source, called with it.
    eval: async ({ expression, arg }) =>
      page.evaluate(arg === undefined ? expression : `(${expression})(${JSON.stringify(arg)})`),
    post: async ({ url, form }) => {
      const response = await context.request.post(url, { form, maxRedirects: 0 });
      return { status: response.status(), text: await response.text() };
    },
    url: async () => page.url(),
    screenshot: async ({ path }) => page.screenshot({ path, fullPage: false }),
    cookies: async () => context.cookies(),
    setCookies: async ({ cookies }) => context.addCookies(cookies),
    close: async () => {
      await browser.close();
      process.exit(0);
    },
  };
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    let answer;
    try {
      const command = JSON.parse(line);
      const run = commands[command.op];
      if (!run) throw new Error("unknown command " + command.op);
      const value = await run(command);
      answer = { ok: true, value: value === undefined ? null : value };
    } catch (error) {
      answer = { ok: false, error: String(error && error.stack ? error.stack : error) };
    }
    process.stdout.write(JSON.stringify(answer) + "\n");
  }
  await browser.close();
}

main().catch((error) => {
  process.stdout.write(JSON.stringify({ ok: false, error: String(error) }) + "\n");
  process.exit(1);
});
