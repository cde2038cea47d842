// What the browser walks (the console's, s3_browser.mjs) share: Debian's
// Chromium (headless, driven by playwright-core, which downloads no browser)
// with every request and WebSocket it opens recorded, and the check that
// none went to another host than offcloud (and the walk's own page server).
import { chromium } from 'playwright-core';

export async function launch({ locale = 'en-US', executablePath = process.env.CHROMIUM || '/usr/bin/chromium' } = {}) {
  const browser = await chromium.launch({
    executablePath, headless: true,
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
  const context = await browser.newContext({ locale, viewport: { width: 1360, height: 900 }, acceptDownloads: true });
  const requests = [];
  context.on('request', (request) => requests.push(request.url()));
  const page = await context.newPage();
  page.on('websocket', (ws) => requests.push(ws.url()));
  page.on('dialog', (dialog) => dialog.accept());
  const consoleErrors = [];
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
  page.setDefaultTimeout(15000);
  return { browser, context, page, requests, consoleErrors };
}

// The requests that went anywhere but the `endpoints` (blob: and data: URLs stay in the page).
export function otherHosts(requests, ...endpoints) {
  return requests.filter((url) => {
    const u = new URL(url);
    if (u.protocol === 'blob:' || u.protocol === 'data:') return false;
    return !endpoints.some((endpoint) => u.host === endpoint.host);
  });
}
