// tests/browser/screenshots.js - docs/screenshots/{desktop,phone,dark}.png
// from a running app (script/screenshots starts one or passes --url): a
// demo person with a few realistic todos, one completed.
//   node screenshots.js BASE-URL OUT-DIR [EMAIL]
'use strict';
const { chromium } = require('playwright-core');
const crypto = require('crypto');
const path = require('path');

const [base, out, emailArg] = process.argv.slice(2);
if (!base || !out) {
	console.error('usage: node screenshots.js BASE-URL OUT-DIR [EMAIL]');
	process.exit(2);
}
const email = emailArg || `alex.${crypto.randomBytes(2).toString('hex')}@example.com`;
const password = crypto.randomBytes(24).toString('base64').replace(/[+/]/g, '-');
// Oldest first: the list shows the newest on top.
const todos = [
	['Renew the passport', 'Photos first; the office on Elm Street closes at 4 pm.'],
	['Book the dentist', ''],
	['Buy oat milk and coffee beans', ''],
	['Plan the weekend trip', 'Train tickets, the hut near the lake, and a rain plan.'],
	['Call mum about Sunday lunch', 'Ask for the soup recipe.'],
];
const done = 'Book the dentist';

(async () => {
	const browser = await chromium.launch({
		executablePath: process.env.TODO_CHROMIUM || '/usr/bin/chromium', headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run', '--hide-scrollbars'],
	});
	const shots = [
		['desktop.png', { viewport: { width: 1280, height: 800 }, colorScheme: 'light' }],
		['phone.png', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, colorScheme: 'light' }],
		['dark.png', { viewport: { width: 1280, height: 800 }, colorScheme: 'dark' }],
	];
	let state;
	for (const [file, opts] of shots) {
		const ctx = await browser.newContext({ javaScriptEnabled: false, baseURL: base, storageState: state, ...opts });
		const page = await ctx.newPage();
		if (!state) {
			await page.goto('/signup');
			await page.getByLabel('Email').fill(email);
			await page.getByLabel('Password', { exact: true }).fill(password);
			await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Create account' }).click()]);
			if (new URL(page.url()).pathname !== '/todos') throw new Error(`sign-up failed: at ${page.url()}`);
			for (const [title, description] of todos) {
				await page.getByLabel('Title', { exact: true }).fill(title);
				// The add form may fold the description into a <details>.
				const more = page.locator('form.add-form details:not([open]) > summary');
				if (description && await more.count()) await more.click();
				if (description) await page.locator('form.add-form textarea[name=description]').fill(description);
				await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Add todo' }).click()]);
			}
			const row = page.locator('li[id^="todo-"]').filter({ has: page.locator('p[id^="t-"]', { hasText: done }) });
			await Promise.all([page.waitForNavigation(), row.locator('button[id^="done-"]').click()]);
			state = await ctx.storageState();
		}
		// The list without the one-off flash of the last action.
		await page.goto('/todos');
		await page.screenshot({ path: path.join(out, file) });
		console.log(`${path.join(out, file)}`);
		await ctx.close();
	}
	await browser.close();
})().catch((e) => { console.error(e); process.exit(1); });
