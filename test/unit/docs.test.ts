/**
 * The documentation stays true to the repository: every relative link in README.md, DEVELOPERS.md and
 * docs/ names a file that exists and, when it has one, a heading that exists there (GitHub's anchors);
 * the configuration table is the one `npm run docs:config` writes.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_PAGE, renderConfigurationPage } from '../../scripts/config-table.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');

function markdownUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownUnder(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

const PAGES = [join(ROOT, 'README.md'), join(ROOT, 'DEVELOPERS.md'), ...markdownUnder(join(ROOT, 'docs'))];

/** The text outside fenced code blocks, where links and headings mean something. */
function prose(markdown: string): string {
  return markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

/** GitHub's anchor for a heading: lower case, markup and punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/[`*_]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s-]/gu, '')
    .replace(/\s/g, '-');
}

function anchorsOf(path: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const [, heading] of prose(readFileSync(path, 'utf8')).matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)) {
    const base = slug(heading ?? '');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Relative link targets of a page: `[text](target)`, inline code left out. */
function linksOf(path: string): string[] {
  const text = prose(readFileSync(path, 'utf8')).replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)]
    .map((match) => match[1] ?? '')
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('documentation links', () => {
  it('has pages to check', () => {
    expect(PAGES.length).toBeGreaterThan(10);
  });

  it.each(PAGES.map((page) => [relative(ROOT, page), page]))(
    '%s links only to files and headings that exist',
    (_name, page) => {
      const broken: string[] = [];
      for (const target of linksOf(page)) {
        const [file = '', anchor] = target.split('#');
        const path = file === '' ? page : resolve(dirname(page), decodeURIComponent(file));
        if (!existsSync(path)) broken.push(`${target}: no such file`);
        else if (anchor !== undefined && path.endsWith('.md') && !anchorsOf(path).has(anchor))
          broken.push(`${target}: no heading with that anchor`);
      }
      expect(broken).toEqual([]);
    },
  );

  it('reads anchors as GitHub writes them', () => {
    expect(slug('A first http action')).toBe('a-first-http-action');
    expect(slug('`cron-trigger`')).toBe('cron-trigger');
    expect(slug('A. Egress and SSRF')).toBe('a-egress-and-ssrf');
    expect(slug('Secrets stay write-only, even for whoever writes the code')).toBe(
      'secrets-stay-write-only-even-for-whoever-writes-the-code',
    );
  });
});

describe('the configuration page', () => {
  it('holds the table `npm run docs:config` writes from src/config.ts', async () => {
    const page = readFileSync(CONFIGURATION_PAGE, 'utf8');
    expect(await renderConfigurationPage(page), 'run `npm run docs:config`').toBe(page);
  });
});
