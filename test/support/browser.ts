// A real headless Chromium for the web UI's tests, driven by playwright-core: Debian's
// /usr/bin/chromium (`.ci/run` installs it), a fresh profile per launch, and the flags that
// keep it off the network and quiet. Tests that need it skip with `skipped:` when it is missing.
// Screenshots go under `.artifacts/ui/` at the repository root (git-ignored), named in the
// test output, so a person can look at what the tests saw.
import { accessSync, constants, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { makeTempDir } from './tmp.ts';

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const uiArtifactsFolder = path.join(repositoryRoot, '.artifacts', 'ui');

/** Where Debian puts Chromium; FLOTILLA_CHROMIUM names another. */
const chromiumPath = process.env.FLOTILLA_CHROMIUM ?? '/usr/bin/chromium';

const chromiumFlags = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Undefined when Chromium can run here, else why not (for testUnless). */
export function chromiumUnavailableReason(): string | undefined {
  try {
    accessSync(chromiumPath, constants.X_OK);
    return undefined;
  } catch {
    return `no Chromium at ${chromiumPath} (apt-get install chromium; .ci/run does)`;
  }
}

export interface UiBrowser {
  readonly context: BrowserContext;
  /** A new tab whose console errors and page errors are collected into `problems`. */
  newPage(): Promise<Page>;
  readonly problems: string[];
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<UiBrowser> {
  const userDataDir = makeTempDir('chromium-profile-');
  // launchPersistentContext takes the profile folder itself; Playwright adds its own automation
  // flags to ours. The viewport is a laptop's, so screenshots read like what an operator sees.
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    headless: true,
    args: chromiumFlags,
    viewport: { width: 1400, height: 900 },
    timeout: 120_000,
  });
  const problems: string[] = [];
  return {
    context,
    problems,
    async newPage() {
      const page = await context.newPage();
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') problems.push(`console error: ${message.text()}`);
      });
      return page;
    },
    close: () => context.close(),
  };
}

/** Saves a full-page screenshot as `.artifacts/ui/<name>.png` and prints where. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(uiArtifactsFolder, { recursive: true });
  const file = path.join(uiArtifactsFolder, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  process.stdout.write(`screenshot: ${path.relative(repositoryRoot, file)}\n`);
  return file;
}

export type { Browser, Page };
