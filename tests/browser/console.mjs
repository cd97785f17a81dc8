// console.mjs — the web console in a real browser: playwright-core driving
// Debian's chromium, headless.  Run by tests/integration/test_web_browser.py,
// which starts Dovecot, the SMTP server, `privacy-inbox run` and `serve`,
// and checks what reached the SMTP server and the store afterwards.
//
//   PI_URL=http://127.0.0.1:PORT/ PI_PASSWORD=… PI_SHOTS=DIR PI_PHASE=staff|admin \
//     [PI_REF=PRV-…] node console.mjs
//
// Prints one JSON object (what it did) as its last line; exits 1 on the
// first failed step, naming it.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const url = process.env.PI_URL.replace(/\/$/, '');
const password = process.env.PI_PASSWORD;
const shots = process.env.PI_SHOTS;
const phase = process.env.PI_PHASE;
const chromiumPath = process.env.PI_CHROMIUM || '/usr/bin/chromium';

if (!existsSync(chromiumPath)) {
  console.error(`chromium is missing (${chromiumPath}): run scripts/install-deps`);
  process.exit(1);
}
mkdirSync(shots, { recursive: true });

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

async function signIn(page, user) {
  await page.goto(`${url}/login`);
  await page.fill('input[name=user]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('form.login button[type=submit]')]);
  check((await page.textContent('h1')).includes('請求キュー'), `${user} lands on the queue`);
}

async function signOut(page) {
  await Promise.all([page.waitForNavigation(), page.click('header form[action="/logout"] button')]);
  check(page.url().includes('/login'), 'signed out');
}

async function notice(page) {
  return (await page.locator('p.notice').allTextContents()).join(' | ');
}

async function staff(page) {
  const result = {};
  await signIn(page, 'sato');
  await page.screenshot({ path: join(shots, 'queue.png'), fullPage: true });
  // The oldest due ticket is the first row.
  const first = page.locator('table.queue tbody tr').first().locator('a').first();
  result.ref = (await first.textContent()).trim();
  await Promise.all([page.waitForNavigation(), first.click()]);
  check((await page.textContent('h1')).trim() === result.ref, 'the ticket page opens');
  // The identity document, inline, decoded and decrypted by the console.
  const img = page.locator('figure.document img').first();
  await img.waitFor();
  await page.waitForFunction(() => {
    const i = document.querySelector('figure.document img');
    return i && i.complete && i.naturalWidth > 0;
  });
  result.document_width = await img.evaluate((i) => i.naturalWidth);
  await page.screenshot({ path: join(shots, 'ticket.png'), fullPage: true });
  // Verify identity.
  await page.selectOption('#act-verify select[name=document_type]', 'drivers_license');
  await Promise.all([page.waitForNavigation(), page.click('#act-verify button[type=submit]')]);
  const done = await notice(page);
  check(/#\d+/.test(done), `a reply was drafted (${done})`);
  const link = page.locator('p.notice a[href^="/drafts/"]');
  result.draft = Number((await link.getAttribute('href')).split('/').pop());
  await Promise.all([page.waitForNavigation(), link.click()]);
  // Edit the drafted reply.
  const body = page.locator('textarea[name=body]');
  result.added = 'ブラウザから確認の上、追記しました。';
  await body.fill((await body.inputValue()) + '\n' + result.added + '\n');
  await Promise.all([page.waitForNavigation(), page.click('#edit button[type=submit]')]);
  check((await notice(page)).includes('保存しました'), 'the edit is saved');
  check((await page.textContent('pre.mail')).includes(result.added), 'the rendering shows the edit');
  await page.screenshot({ path: join(shots, 'draft.png'), fullPage: true });
  // The four-eyes rule: who edited may not approve.
  await Promise.all([page.waitForNavigation(), page.click('#approve button[type=submit]')]);
  const refusal = await notice(page);
  check(refusal.includes('four-eyes'), `sato's own approval is refused (${refusal})`);
  await page.screenshot({ path: join(shots, 'draft-four-eyes.png'), fullPage: true });
  await signOut(page);
  // Another person approves.
  await signIn(page, 'suzuki');
  await page.goto(`${url}/drafts/${result.draft}`);
  await Promise.all([page.waitForNavigation(), page.click('#approve button[type=submit]')]);
  const approved = await notice(page);
  check(approved.includes('承認しました'), `suzuki approves (${approved})`);
  await page.screenshot({ path: join(shots, 'draft-approved.png'), fullPage: true });
  await signOut(page);
  return result;
}

async function admin(page) {
  const result = {};
  await signIn(page, 'kato');
  await page.goto(`${url}/templates`);
  await Promise.all([page.waitForNavigation(), page.click('a[href="/templates/ja/ack"]')]);
  const text = page.locator('textarea[name=text]');
  result.added = '（この文面は管理画面で編集しました）';
  await page.fill('input[name=ticket]', process.env.PI_REF || '');
  await text.fill((await text.inputValue()).replace(/\n*$/, '\n\n') + result.added + '\n');
  // The live preview (console.js) shows the new line with the ticket's data.
  await page.waitForFunction((added) => {
    const p = document.getElementById('preview');
    return p && !p.classList.contains('pending') && p.textContent.includes(added);
  }, result.added, { timeout: 15000 });
  const preview = await page.textContent('#preview');
  check(preview.includes('問題はありません'), 'the check passes');
  if (process.env.PI_REF) check(preview.includes(process.env.PI_REF), 'previewed with the ticket');
  await page.screenshot({ path: join(shots, 'template.png'), fullPage: true });
  await Promise.all([page.waitForNavigation(), page.click('#template-form button:not(.secondary)')]);
  check((await notice(page)).includes('保存しました'), 'the template is saved');
  await signOut(page);
  return result;
}

const profile = mkdtempSync(join(tmpdir(), 'pi-chromium-'));
let context;
let status = 0;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync',
           '--no-proxy-server'],
    viewport: { width: 1280, height: 900 },
    locale: 'ja-JP',
  });
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  // The four-eyes refusal is a 409 page by design; anything else is an error.
  page.on('console', (m) => {
    if (m.type() === 'error' && !/status of 409/.test(m.text())) errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  const result = phase === 'admin' ? await admin(page) : await staff(page);
  // No CSP violation or script error on any page.
  result.console_errors = errors;
  console.log(JSON.stringify(result));
} catch (e) {
  console.error(String(e && e.stack || e));
  status = 1;
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
