// tests/browser/app.test.js - the app in a real browser: Debian's chromium
// driven by playwright-core, against the real stack (tests/e2e_browser
// starts it and passes its address). The flows of issue 9's UX contract
// (README "Browser tests"): by mouse, by keyboard only, at phone width, all
// with JavaScript off (the app has none), and axe-core on every page and
// state in light, dark and phone. Output is cmocka's, like tests/shtest.sh:
// script/test counts "[  PASSED  ] N test(s)." and "[  FAILED  ] N ...".
//   node app.test.js BASE-URL [CASE...]
'use strict';
const { chromium } = require('playwright-core');
const crypto = require('crypto');
const { AsyncLocalStorage } = require('async_hooks');

const base = process.argv[2] || process.env.TODO_BROWSER_BASE;
if (!base) {
	console.error('usage: node app.test.js BASE-URL [CASE...]');
	process.exit(2);
}
const only = process.argv.slice(3);
const executablePath = process.env.TODO_CHROMIUM || '/usr/bin/chromium';
// Short: a page of this app is there at "load" or never; a missing feature
// fails its case in seconds, not in 30.
const WAIT_MS = Number(process.env.TODO_BROWSER_WAIT_MS || 4000);
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

// Cases run TODO_BROWSER_JOBS (2) at a time, each in its own contexts
// with its own person; what a case says is kept with it (current()) and
// printed in order when it ends.
const JOBS = Math.max(1, Number(process.env.TODO_BROWSER_JOBS || 2));
let browser;
const running = new AsyncLocalStorage();
const current = () => running.getStore();
const noScriptPages = [];   // every document any context loaded: [url, has <script>]

function fail(msg) {
	current().lines.push(`    FAIL: ${msg}`);
	current().failed = true;
}
function note(msg) { current().lines.push(`    NOTE: ${msg}`); }
function check(cond, msg) { if (!cond) fail(msg); return !!cond; }
function eq(what, expected, actual) {
	return check(expected === actual, `${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}
function match(what, re, actual) {
	return check(re.test(String(actual)), `${what}: ${JSON.stringify(actual)} does not match ${re}`);
}
const reEscape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---- contexts, people, navigation ------------------------------------

// A browser context with JavaScript off (the app has none: a page that
// needed it would not work here), unless opts says otherwise (axe needs it,
// and bypassCSP to be injected under the app's strict CSP). Every document
// it loads is checked for <script> (no_script_anywhere).
async function newContext(opts = {}) {
	const ctx = await browser.newContext({ javaScriptEnabled: false, baseURL: base, ...opts });
	current().contexts.push(ctx);
	ctx.setDefaultTimeout(WAIT_MS);
	ctx.setDefaultNavigationTimeout(10000);
	ctx.on('response', async (resp) => {
		if (resp.request().resourceType() !== 'document') return;
		const ct = resp.headers()['content-type'] || '';
		if (!ct.startsWith('text/html')) return;
		try {
			const body = await resp.text();
			noScriptPages.push([resp.url(), /<script\b/i.test(body)]);
		} catch (_) { /* a redirect has no body */ }
	});
	return ctx;
}

// nav(page, action): runs action (a click, a key) and waits for the page it
// navigates to, loaded.
async function nav(page, action) {
	const [resp] = await Promise.all([
		page.waitForNavigation({ waitUntil: 'load', timeout: 10000 }),
		action(),
	]);
	return resp;
}

function newEmail(tag) {
	return `${tag.replace(/_/g, '-')}-${crypto.randomBytes(4).toString('hex')}@example.com`;
}
// 32 random characters: in no dictionary (the app's cracklib check).
const newPassword = () => crypto.randomBytes(24).toString('base64').replace(/[+/]/g, '-');

// signUp(ctx, tag): a new person through the sign-up form; returns the page,
// on /todos.
async function signUp(ctx, tag) {
	const page = await ctx.newPage();
	await page.goto('/signup');
	const email = newEmail(tag), password = newPassword();
	await page.getByLabel('Email').fill(email);
	await page.getByLabel('Password', { exact: true }).fill(password);
	await nav(page, () => page.getByRole('button', { name: 'Create account' }).click());
	if (!check(new URL(page.url()).pathname === '/todos', `after sign-up: at ${page.url()}, not /todos`))
		throw new Error('sign-up failed: ' + (await page.locator('h1').textContent().catch(() => '?')));
	page.person = { email, password };
	return page;
}

// The add form's description (behind a <details> when the form folds it).
async function addDescription(page, text) {
	const more = page.locator('form.add-form details:not([open]) > summary');
	if (await more.count()) await more.click();
	await page.locator('form.add-form textarea[name=description]').fill(text);
}

async function csrf(page) {
	return page.locator('input[name=csrf_token]').first().getAttribute('value');
}

// post(page, path, form): a form post with the page's session cookie (the
// context's request shares its cookies), not following the redirect.
async function post(page, path, form) {
	const token = await csrf(page);
	const resp = await page.context().request.post(path, {
		form: { csrf_token: token, return_to: '/todos', ...form }, maxRedirects: 0,
	});
	if (resp.status() !== 303) throw new Error(`POST ${path}: ${resp.status()}, not 303`);
	return resp;
}

// addTodos(page, titles): creates them in this order (the last is the
// newest) without the UI, then reloads /todos. Quick: for long lists.
async function addTodos(page, titles, descriptions = {}, parallel = 1) {
	for (let i = 0; i < titles.length; i += parallel) {
		await Promise.all(titles.slice(i, i + parallel).map((t) =>
			post(page, '/todos', { title: t, description: descriptions[t] || '' })));
	}
	await page.goto('/todos');
}

// A row and its parts by the list page's contract (the rows carry no
// classes, issue 10): li#todo-ID, its title p#t-ID, the toggle
// button#done-ID, the Edit link a#edit-ID, Delete by its formaction.
const ROW = 'li[id^="todo-"]', TITLE = 'p[id^="t-"]', TOGGLE = 'button[id^="done-"]',
	EDIT = 'a[id^="edit-"]', DELETE = 'button[formaction$="/delete"]';
const row = (page, title) => page.locator(ROW).filter({
	has: page.locator(TITLE, { hasText: new RegExp(`^\\s*${reEscape(title)}\\s*$`) }),
});
// The row's toggle as it is found without its contract name (the passing
// basics), and by its accessible name (the contract).
const check_ = (page, title) => row(page, title).locator(TOGGLE);
const toggle = (page, title) => page.getByRole('button', { name: `Done: ${title}`, exact: true });
// The confirmation: the toast, or, after a delete, the status beside Undo
// where the todo was.
const flash = (page) => page.locator('.flash[role=status], li.undo-row [role=status]');
const titles = async (page) => (await page.locator(`${ROW} ${TITLE}`).allTextContents()).map((s) => s.trim());

// The todo's id, from its Delete button's formaction (there before issue 9).
async function todoId(page, title) {
	const a = await row(page, title).locator(DELETE).getAttribute('formaction');
	const m = /^\/todos\/(\d+)\/delete$/.exec(a || '');
	if (!m) throw new Error(`row "${title}": Delete's formaction is ${JSON.stringify(a)}`);
	return m[1];
}

async function rowId(page, title) {
	const id = await row(page, title).getAttribute('id');
	if (!/^todo-\d+$/.test(id || '')) throw new Error(`row "${title}" has id ${JSON.stringify(id)}, not todo-{id}`);
	return id;
}

// The text of LOC that shows (not in a visually hidden element).
async function visibleText(loc) {
	return loc.evaluate((el) => {
		let s = '';
		const w = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
		for (let n; (n = w.nextNode());) {
			const r = n.parentElement.getBoundingClientRect();
			if (r.width > 1 && r.height > 1) s += n.textContent;
		}
		return s.replace(/\s+/g, ' ').trim();
	});
}

// need(loc, what): waits for loc; a missing control ends the case with
// a message saying which.
async function need(loc, what) {
	try { await loc.first().waitFor(); } catch (_) { throw new Error(`missing: ${what}`); }
	return loc;
}

// Is LOCATOR the focused element?
async function isFocused(loc) {
	return loc.evaluate((el) => el === document.activeElement);
}
async function focusedDesc(page) {
	return page.evaluate(() => {
		const a = document.activeElement;
		if (!a || a === document.body) return 'body';
		return `${a.tagName.toLowerCase()}${a.id ? '#' + a.id : ''}${a.className ? '.' + String(a.className).replace(/ /g, '.') : ''} "${(a.textContent || a.value || '').trim().slice(0, 60)}"`;
	});
}
// Chromium (like the HTML standard's "flush autofocus candidates") ignores
// autofocus when the address's fragment names an element: said so, as the
// cause of a focus left on body.
async function expectFocus(page, loc, what) {
	let ok = false;
	try { ok = await isFocused(loc); } catch (e) { fail(`${what}: ${e.message.split('\n')[0]}`); return false; }
	if (ok) return true;
	const why = await page.evaluate(() => {
		const h = decodeURIComponent(location.hash.slice(1));
		return document.activeElement === document.body && h && document.getElementById(h) &&
			document.querySelector('[autofocus]') ? ` (the page has an autofocus, but the fragment #${h} names an element: browsers skip autofocus then)` : '';
	});
	fail(`${what}: focus is on ${await focusedDesc(page)}${why}`);
	return false;
}
// The whole element inside the viewport (scrolled to by the fragment or the
// autofocus).
async function expectInViewport(page, loc, what) {
	const r = await loc.evaluate((el) => {
		const b = el.getBoundingClientRect();
		return { top: b.top, bottom: b.bottom, h: window.innerHeight };
	});
	check(r.top > -1 && r.bottom < r.h + 1, `${what}: not in the viewport (top ${Math.round(r.top)}, bottom ${Math.round(r.bottom)}, viewport ${r.h})`);
}
// The redirect lands on a control (docs/accounts.md, "Where an action
// lands"): KIND "done" (the toggle) or "edit" of row ROW_ID ("todo-N"), or
// "undo".
function expectHash(page, kind, rowId, what) {
	const want = kind === 'undo' ? '#undo' : `#${kind}-${rowId.replace(/^todo-/, '')}`;
	eq(`${what}: the redirect's fragment`, want, new URL(page.url()).hash);
}
async function expectFlash(page, text, what) {
	let got;
	try { got = (await flash(page).innerText({ timeout: 1000 })).trim(); } catch (_) { got = '(no .flash[role=status])'; }
	check(got.startsWith(text), `${what}: flash ${JSON.stringify(got)}, expected ${JSON.stringify(text)}`);
}

// ---- the cases -------------------------------------------------------

const cases = [];
const test = (name, fn) => cases.push({ name, fn });

// -- what the app already did before issue 9 (these pass on main) --

test('sign_up_sign_out_sign_in', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'signup');
	await page.getByText(`Signed in as ${page.person.email}`).waitFor();
	match('list page title', / · Todos$/, await page.title());
	await nav(page, () => page.getByRole('button', { name: 'Sign out' }).click());
	eq('after sign-out', '/login', new URL(page.url()).pathname);
	await page.goto('/todos');
	eq('/todos signed out: to the sign-in page', '/login', new URL(page.url()).pathname);
	await page.getByLabel('Email').fill(page.person.email);
	await page.getByLabel('Password').fill(page.person.password);
	await nav(page, () => page.getByRole('button', { name: 'Sign in' }).click());
	eq('after sign-in', '/todos', new URL(page.url()).pathname);
	await ctx.close();
});

test('add_todos', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'add');
	const title = page.getByLabel('Title', { exact: true });
	eq('the add form\'s title input', 'title-new', await title.getAttribute('id'));
	eq('the add form\'s button', 1, await page.getByRole('button', { name: 'Add todo', exact: true }).count());
	await title.fill('Buy oat milk');
	await addDescription(page, 'The one in the blue carton');
	await nav(page, () => page.getByRole('button', { name: 'Add todo' }).click());
	match('the new row', /Buy oat milk\s+The one in the blue carton/, await row(page, 'Buy oat milk').innerText());
	for (const t of ['Return the library books', 'Book the dentist']) {
		await page.getByLabel('Title', { exact: true }).fill(t);
		await nav(page, () => page.getByLabel('Title', { exact: true }).press('Enter'));
		eq(`"${t}" added by Enter`, 1, await row(page, t).count());
	}
	eq('newest first', 'Book the dentist,Return the library books,Buy oat milk', (await titles(page)).join(','));
	// An empty title (the browser's own check bypassed): a clear 4xx form.
	const resp = await nav(page, () => page.locator('form.add-form').evaluate((f) => f.submit()));
	check(resp.status() >= 400 && resp.status() < 500, `an empty title: ${resp.status()}, not 4xx`);
	check(await page.getByRole('alert').count() > 0, 'an empty title: no alert');
	await ctx.close();
});

test('toggle', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'toggle');
	await addTodos(page, ['Feed the cat', 'Empty the bins']);
	const btn = check_(page, 'Feed the cat');
	eq('aria-pressed before', 'false', await btn.getAttribute('aria-pressed'));
	await nav(page, () => btn.click());
	eq('aria-pressed after', 'true', await btn.getAttribute('aria-pressed'));
	match('the row is completed', /\bcompleted\b/, await row(page, 'Feed the cat').getAttribute('class'));
	eq('the other row', 'false', await check_(page, 'Empty the bins').getAttribute('aria-pressed'));
	await nav(page, () => btn.click());
	eq('aria-pressed toggled back', 'false', await btn.getAttribute('aria-pressed'));
	await ctx.close();
});

test('edit_todo', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'edit');
	await addTodos(page, ['Water the plants', 'Pay the electricity bill']);
	await nav(page, () => row(page, 'Water the plants').locator(EDIT).click());
	match('edit page title', /^Edit.* · Todos$/, await page.title());
	eq('the title field holds the title', 'Water the plants', await page.getByLabel('Title', { exact: true }).inputValue());
	await page.getByLabel('Title', { exact: true }).fill('Water the plants and the herbs');
	await page.getByLabel('Description').fill('Basil needs more than the rest.');
	await page.getByLabel('Completed').check();
	await nav(page, () => page.getByRole('button', { name: 'Save' }).click());
	eq('back on the list', '/todos', new URL(page.url()).pathname);
	const r = row(page, 'Water the plants and the herbs');
	eq('the new title', 1, await r.count());
	match('the description', /Basil needs more than the rest\./, await r.innerText());
	eq('completed in the edit form', 'true', await check_(page, 'Water the plants and the herbs').getAttribute('aria-pressed'));
	// Cancel changes nothing; an empty title is a clear 4xx form.
	await nav(page, () => row(page, 'Pay the electricity bill').locator(EDIT).click());
	await page.getByLabel('Title', { exact: true }).fill('Changed my mind');
	await nav(page, () => page.getByRole('link', { name: 'Cancel' }).click());
	eq('Cancel keeps the title', 1, await row(page, 'Pay the electricity bill').count());
	await nav(page, () => row(page, 'Pay the electricity bill').locator(EDIT).click());
	await page.getByLabel('Title', { exact: true }).fill('');
	const resp = await nav(page, () => page.locator('form.edit-form').evaluate((f) => f.submit()));
	check(resp.status() >= 400 && resp.status() < 500, `an empty title: ${resp.status()}, not 4xx`);
	check(await page.getByRole('alert').count() > 0, 'an empty title: no alert');
	await ctx.close();
});

test('filter_links', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'filter');
	await addTodos(page, ['Alpha', 'Bravo', 'Charlie']);
	await nav(page, () => check_(page, 'Bravo').click());
	const filters = page.getByRole('navigation', { name: 'Filter' });
	await nav(page, () => filters.getByRole('link', { name: 'Active' }).click());
	eq('Active', 'Charlie,Alpha', (await titles(page)).join(','));
	eq('aria-current on Active', 'page', await filters.getByRole('link', { name: 'Active' }).getAttribute('aria-current'));
	eq('no aria-current on All', null, await filters.getByRole('link', { name: 'All' }).getAttribute('aria-current'));
	await nav(page, () => filters.getByRole('link', { name: 'Completed' }).click());
	eq('Completed', 'Bravo', (await titles(page)).join(','));
	await nav(page, () => filters.getByRole('link', { name: 'All' }).click());
	eq('All', 'Charlie,Bravo,Alpha', (await titles(page)).join(','));
	match('the count', /2\D+left.*1\s+completed/s, await page.locator('.count').innerText());
	await ctx.close();
});

test('older_and_newer_pages', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'pages');
	await addTodos(page, Array.from({ length: 53 }, (_, i) => `Page item ${i + 1}`));
	eq('first page rows', 50, await page.locator(ROW).count());
	const pager = page.getByRole('navigation', { name: 'Pages' });
	await nav(page, () => pager.getByRole('link', { name: 'Older →' }).click());
	eq('second page', 'Page item 3,Page item 2,Page item 1', (await titles(page)).join(','));
	eq('no Older on the last page', 0, await pager.getByRole('link', { name: 'Older →' }).count());
	await nav(page, () => pager.getByRole('link', { name: '← Newer' }).click());
	eq('back on the first page', 'Page item 53', (await titles(page))[0]);
	await ctx.close();
});

// -- issue 9's contract (fail until the features are merged) --

test('row_markup_and_names', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'names');
	await addTodos(page, ['Sort the photos']);
	const r = row(page, 'Sort the photos');
	match('the row\'s id', /^todo-\d+$/, await r.getAttribute('id'));
	// No form per row: every row button posts through the list's one form,
	// which carries csrf_token and return_to once.
	eq('no form in the row', 0, await r.locator('form').count());
	for (const b of await r.locator('button').all())
		eq('a row button\'s form', 'rows', await b.evaluate((el) => el.form && el.form.id));
	for (const f of ['csrf_token', 'return_to'])
		eq(`the list form's ${f}`, 1, await page.locator(`form#rows > input[type=hidden][name=${f}]`).count());
	const btn = toggle(page, 'Sort the photos');
	eq('the toggle: name "Done: {title}"', 1, await btn.count());
	eq('the toggle shows no text', '', await visibleText(r.locator(TOGGLE)));
	const edit = page.getByRole('link', { name: 'Edit Sort the photos', exact: true });
	eq('the Edit link: name "Edit {title}"', 1, await edit.count());
	eq('the Edit link shows "Edit"', 'Edit', await visibleText(r.locator(EDIT)));
	const del = page.getByRole('button', { name: 'Delete Sort the photos', exact: true });
	eq('the Delete button: name "Delete {title}"', 1, await del.count());
	eq('Delete shows "Delete"', 'Delete', await visibleText(r.locator(DELETE)));
	await nav(page, () => r.locator(TOGGLE).click());
	eq('the toggle keeps its name when done', 1, await toggle(page, 'Sort the photos').count());
	await ctx.close();
});

test('add_focus_returns_to_title', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'addfocus');
	await page.locator('#title-new').focus();
	for (const t of ['Buy oat milk', 'Return the library books', 'Book the dentist']) {
		await page.keyboard.type(t);
		await nav(page, () => page.keyboard.press('Enter'));
		eq(`"${t}" added`, 1, await row(page, t).count());
		if (!await expectFocus(page, page.locator('#title-new'), `after adding "${t}"`)) return;
		eq('the title field is empty again', '', await page.locator('#title-new').inputValue());
	}
	await ctx.close();
});

test('toggle_focus_and_place', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'togglefocus');
	await addTodos(page, Array.from({ length: 30 }, (_, i) => `Task ${String(i + 1).padStart(2, '0')}`));
	const t = 'Task 08';   // far below the fold (the list is newest first)
	const id = await rowId(page, t);
	await nav(page, () => check_(page, t).click());
	expectHash(page, 'done', id, 'toggle');
	await expectFocus(page, check_(page, t), 'after toggle');
	await expectInViewport(page, page.locator(`#${id}`), 'the toggled row');
	// In the Active filter the row leaves: focus and fragment go to the next
	// older row of the filter.
	await page.goto('/todos?filter=active');
	const older = await rowId(page, 'Task 06');
	await nav(page, () => check_(page, 'Task 07').click());
	eq('Task 07 left the Active filter', 0, await row(page, 'Task 07').count());
	expectHash(page, 'done', older, 'toggle out of the filter');
	await expectFocus(page, check_(page, 'Task 06'), 'after the row left the filter');
	await expectInViewport(page, page.locator(`#${older}`), 'the nearest row');
	// The oldest active row: no older one, so the next newer.
	const newer = await rowId(page, 'Task 02');
	await nav(page, () => check_(page, 'Task 01').click());
	expectHash(page, 'done', newer, 'toggle of the last row out of the filter');
	await expectFocus(page, check_(page, 'Task 02'), 'after the last row left the filter');
	await ctx.close();
});

test('edit_focus_and_place', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'editfocus');
	await addTodos(page, Array.from({ length: 25 }, (_, i) => `Chore ${i + 1}`));
	const id = await rowId(page, 'Chore 3');
	await nav(page, () => row(page, 'Chore 3').locator(EDIT).click());
	await page.getByLabel('Title', { exact: true }).fill('Chore three');
	await nav(page, () => page.getByRole('button', { name: 'Save' }).click());
	expectHash(page, 'edit', id, 'save');
	await expectFocus(page, row(page, 'Chore three').locator(EDIT), 'after saving');
	await expectInViewport(page, page.locator(`#${id}`), 'the edited row');
	await ctx.close();
});

test('search', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'search');
	await addTodos(page, ['Buy milk', 'Call the plumber', 'Write the quarterly report', 'Oat MILK for the café'],
		{ 'Call the plumber': 'the kitchen tap drips; ask about milk-white tiles' });
	const form = page.getByRole('search');
	eq('one search form', 1, await form.count());
	eq('its method', 'get', (await form.getAttribute('method') || '').toLowerCase());
	const q = page.getByLabel('Search todos');
	eq('the search input', 'q', await q.getAttribute('id'));
	eq('maxlength', '200', await q.getAttribute('maxlength'));
	await q.fill('milk');
	await nav(page, () => form.getByRole('button', { name: 'Search' }).click());
	eq('q in the address', 'milk', new URL(page.url()).searchParams.get('q'));
	eq('the matches (title or description, any case)', 'Oat MILK for the café,Call the plumber,Buy milk',
		(await titles(page)).join(','));
	await page.getByText('Results for “milk”').waitFor();
	eq('the query stays in the field', 'milk', await page.getByLabel('Search todos').inputValue());
	const active = page.getByRole('navigation', { name: 'Filter' }).getByRole('link', { name: 'Active' });
	eq('the filter link keeps q', 'milk', new URL(await active.getAttribute('href'), base).searchParams.get('q'));
	for (const v of await page.locator('form input[name=return_to]').evaluateAll((l) => l.map((i) => i.value)))
		eq(`return_to ${v} keeps q`, 'milk', new URL(v, base).searchParams.get('q'));
	eq('no hidden filter input for All', 0, await page.locator('form.search input[name=filter]').count());
	// Toggle a match: back on the same results.
	await nav(page, () => check_(page, 'Buy milk').click());
	eq('still searching after a toggle', 'milk', new URL(page.url()).searchParams.get('q'));
	await nav(page, () => active.click());
	eq('Active results', 'Oat MILK for the café,Call the plumber', (await titles(page)).join(','));
	eq('hidden filter input', 'active', await page.locator('form.search input[type=hidden][name=filter]').getAttribute('value'));
	await nav(page, () => page.getByRole('link', { name: 'Clear search' }).click());
	const u = new URL(page.url());
	check(!u.searchParams.has('q') && u.searchParams.get('filter') === 'active', `Clear search: at ${page.url()}`);
	await page.getByLabel('Search todos').fill('zebra');
	await nav(page, () => page.getByRole('search').getByRole('button', { name: 'Search' }).click());
	await page.getByText('No todos match “zebra”.').waitFor();
	eq('no rows', 0, await page.locator(ROW).count());
	await ctx.close();
});

test('delete_and_undo', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'delete');
	await addTodos(page, ['First thing', 'Second thing', 'Third thing']);
	const older = await rowId(page, 'First thing');
	const del = page.getByRole('button', { name: 'Delete Second thing', exact: true });
	eq('visible text of Delete', 'Delete', await visibleText(del));
	await nav(page, () => del.click());
	eq('deleted', 0, await row(page, 'Second thing').count());
	await expectFlash(page, 'Deleted “Second thing”.', 'delete');
	// Undo stands where the todo was: right above the todo next to it.
	eq('Undo where the todo was', 1, await page.locator(`li.undo-row + li#${older}`).count());
	eq('no toast besides', 0, await page.locator('.flash').count());
	expectHash(page, 'undo', older, 'delete');
	// In the row, Undo posts its batch (the button's value) through the
	// list's form, which carries csrf_token and return_to.
	const undo = page.locator('li.undo-row').getByRole('button', { name: 'Undo' });
	eq('one Undo button', 1, await undo.count());
	eq('the Undo button\'s formaction', '/todos/undo', await undo.getAttribute('formaction'));
	eq('the Undo button\'s name', 'batch', await undo.getAttribute('name'));
	match('the Undo button\'s batch', /^\d+$/, await undo.getAttribute('value'));
	eq('the Undo button\'s form', 'post rows', await undo.evaluate((b) => b.form && `${b.form.method} ${b.form.id}`));
	for (const f of ['csrf_token', 'return_to'])
		eq(`the list form's ${f}`, 1, await page.locator(`form#rows > input[type=hidden][name=${f}]`).count());
	await expectFocus(page, undo, 'after delete');
	await nav(page, () => undo.click());
	await expectFlash(page, 'Restored 1 todo.', 'undo');
	eq('restored, in its place', 'Third thing,Second thing,First thing', (await titles(page)).join(','));
	await expectFocus(page, check_(page, 'Second thing'), 'after undo: the restored row\'s toggle');
	// The same batch once more, or one that never was: a flash, no error page.
	const resp = await page.context().request.post('/todos/undo', {
		form: { batch: '999999999', csrf_token: await csrf(page), return_to: '/todos' }, maxRedirects: 0 });
	eq('an unknown batch: 303', 303, resp.status());
	await page.goto('/todos');
	await expectFlash(page, 'Too late to undo: deleted todos are kept for 10 minutes.', 'unknown batch');
	await ctx.close();
});

test('clear_completed_and_undo', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'clear');
	await addTodos(page, ['Keep me', 'Done one', 'Done two', 'Done three']);
	for (const t of ['Done one', 'Done two', 'Done three']) await nav(page, () => check_(page, t).click());
	await nav(page, () => page.getByRole('button', { name: /^Clear completed/ }).click());
	await expectFlash(page, 'Cleared 3 completed todos.', 'clear completed');
	eq('left', 'Keep me', (await titles(page)).join(','));
	const undo = page.getByRole('button', { name: 'Undo' });
	await expectFocus(page, undo, 'after clear completed');
	await nav(page, () => undo.click());
	await expectFlash(page, 'Restored 3 todos.', 'undo clear');
	eq('all back', 4, await page.locator(ROW).count());
	eq('completed again', 3, await page.locator(`${ROW}.completed`).count());
	await expectFocus(page, check_(page, 'Done three'), 'after undo: the first restored row');
	// One: the singular.
	await nav(page, () => check_(page, 'Done two').click());
	await nav(page, () => check_(page, 'Done three').click());
	await nav(page, () => page.getByRole('button', { name: /^Clear completed/ }).click());
	await expectFlash(page, 'Cleared 1 completed todo.', 'clear one');
	await ctx.close();
});

test('toggle_all', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'toggleall');
	await addTodos(page, ['One', 'Two', 'Three']);
	let btn = page.getByRole('button', { name: 'Mark all as complete' });
	await nav(page, () => btn.click());
	await expectFlash(page, 'Marked 3 todos as complete.', 'toggle-all');
	eq('all completed', 3, await page.locator(`${ROW}.completed`).count());
	btn = page.locator('button.toggle-all');
	await expectFocus(page, btn, 'after toggle-all');
	await nav(page, () => btn.click());
	await expectFlash(page, 'Marked 3 todos as active.', 'toggle-all back');
	eq('none completed', 0, await page.locator(`${ROW}.completed`).count());
	await ctx.close();
});

test('paginate', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'pager');
	await addTodos(page, Array.from({ length: 62 }, (_, i) => `Item ${i + 1}`));
	const pager = page.getByRole('navigation', { name: 'Pages' });
	eq('first page rows', 50, await page.locator(ROW).count());
	match('pager text', /1–50 of 62/, await pager.innerText());
	eq('no Newer on the first page', 0, await pager.getByRole('link', { name: '← Newer' }).count());
	const older = pager.getByRole('link', { name: 'Older →' });
	eq('Older is rel=next', 'next', await older.getAttribute('rel'));
	await nav(page, () => older.click());
	eq('second page rows', 12, await page.locator(ROW).count());
	eq('second page starts', 'Item 12', (await titles(page))[0]);
	match('pager text, page 2', /51–62 of 62/, await pager.innerText());
	const newer = pager.getByRole('link', { name: '← Newer' });
	eq('Newer is rel=prev', 'prev', await newer.getAttribute('rel'));
	await nav(page, () => newer.click());
	eq('back on the first page', 'Item 62', (await titles(page))[0]);
	match('pager text again', /1–50 of 62/, await pager.innerText());
	// Searching, the pager links keep q.
	await page.goto('/todos?q=item');
	const href = await pager.getByRole('link', { name: 'Older →' }).getAttribute('href');
	eq('Older keeps q', 'item', new URL(href, base).searchParams.get('q'));
	await ctx.close();
});

test('emptied_page_goes_to_nearest', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'emptied');
	await addTodos(page, Array.from({ length: 52 }, (_, i) => `Row ${i + 1}`));
	await nav(page, () => page.getByRole('link', { name: 'Older →' }).click());
	const page2 = page.url();
	eq('page 2', 'Row 2,Row 1', (await titles(page)).join(','));
	for (const t of ['Row 2', 'Row 1']) await post(page, `/todos/${await todoId(page, t)}/delete`, {});
	// Page 2 is empty now: to the nearest page with todos, the 50 left.
	let resp = await page.goto(page2);
	let from = resp.request().redirectedFrom();
	check(from !== null, `${page2} did not redirect`);
	if (from) eq('the redirect', 303, (await from.response()).status());
	eq('rows there', 50, await page.locator(ROW).count());
	eq('the nearest page', 'Row 52', (await titles(page))[0]);
	// None left anywhere: the first page.
	await post(page, '/todos/toggle-all', {});
	await post(page, '/todos/clear-completed', {});
	resp = await page.goto(page2);
	from = resp.request().redirectedFrom();
	check(from !== null, `${page2}, no todos at all: did not redirect`);
	const u = new URL(page.url());
	check(u.pathname === '/todos' && !u.searchParams.has('before') && !u.searchParams.has('after'),
		`no todos at all: landed on ${page.url()}, not the first page`);
	eq('no rows', 0, await page.locator(ROW).count());
	await ctx.close();
});

// Press KEY (Tab) from where focus is until pred(what is focused) holds;
// throws after `max` presses. The focused element is described by its tag,
// id, class, text (visually hidden text too), type, formaction, and the
// title of the row it is in.
async function tabTo(page, what, pred, max = 80, key = 'Tab') {
	for (let i = 0; i < max; i++) {
		await page.keyboard.press(key);
		const info = await page.evaluate(() => {
			const a = document.activeElement;
			const li = a.closest && a.closest('li[id^="todo-"]'), t = li && li.querySelector('p[id^="t-"]');
			return { id: a.id, tag: a.tagName, text: (a.textContent || '').replace(/\s+/g, ' ').trim(),
				cls: String(a.className || ''), type: a.type, row: t ? t.textContent.trim() : null,
				formaction: a.getAttribute('formaction') || '' };
		});
		if (pred(info)) return true;
	}
	throw new Error(`${key} never reached ${what} (focus on ${await focusedDesc(page)})`);
}
// From the top of the page (as after a page load).
async function tabFromTop(page, what, pred) {
	await page.evaluate(() => { document.activeElement && document.activeElement.blur && document.activeElement.blur(); window.getSelection().removeAllRanges(); });
	await page.locator('body').evaluate((b) => b.focus());
	return tabTo(page, what, pred);
}
async function focusRing(page, what) {
	const s = await page.evaluate(() => {
		const cs = getComputedStyle(document.activeElement);
		return { style: cs.outlineStyle, width: parseFloat(cs.outlineWidth) };
	});
	check(s.style !== 'none' && s.width >= 2, `${what}: no visible focus outline (${s.style} ${s.width}px)`);
}

// Keyboard only: the focus features have their own cases; here every
// control is reached by Tab from the top of the page and used by Enter or
// Space, and shows where focus is.
test('keyboard_only', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'keyboard');
	await page.goto('/todos');
	await page.keyboard.press('Tab');
	eq('the first Tab: the skip link', 'Skip to content', (await page.evaluate(() => document.activeElement.textContent)).trim());
	await focusRing(page, 'the skip link');
	for (const t of ['Wash the car', 'Fix the bike']) {
		await tabFromTop(page, 'the title field', (a) => a.id === 'title-new');
		await focusRing(page, 'the title field');
		await page.keyboard.type(t);
		await nav(page, () => page.keyboard.press('Enter'));
	}
	eq('both added by keyboard', 'Fix the bike,Wash the car', (await titles(page)).join(','));
	await tabFromTop(page, 'the toggle of "Wash the car"', (a) => a.row === 'Wash the car' && /^done-\d+$/.test(a.id));
	await focusRing(page, 'the toggle');
	await nav(page, () => page.keyboard.press('Space'));
	eq('toggled by Space', 'true', await check_(page, 'Wash the car').getAttribute('aria-pressed'));
	await tabFromTop(page, 'the Edit link of "Wash the car"', (a) => a.row === 'Wash the car' && a.tag === 'A');
	await focusRing(page, 'the Edit link');
	await nav(page, () => page.keyboard.press('Enter'));
	await tabFromTop(page, 'the edit title', (a) => a.tag === 'INPUT' && a.type === 'text');
	await page.keyboard.press('Control+A');
	await page.keyboard.type('Wash and wax the car');
	await nav(page, () => page.keyboard.press('Enter'));
	eq('saved by Enter', 1, await row(page, 'Wash and wax the car').count());
	await tabFromTop(page, 'the Completed filter', (a) => a.tag === 'A' && a.text === 'Completed');
	await nav(page, () => page.keyboard.press('Enter'));
	eq('Completed filter by keyboard', 'Wash and wax the car', (await titles(page)).join(','));
	await tabFromTop(page, 'the All filter', (a) => a.tag === 'A' && a.text === 'All');
	await nav(page, () => page.keyboard.press('Enter'));
	await tabFromTop(page, 'Delete of "Fix the bike"', (a) => a.row === 'Fix the bike' && /\/delete$/.test(a.formaction));
	await focusRing(page, 'the Delete button');
	await nav(page, () => page.keyboard.press('Enter'));
	eq('deleted by Enter', 0, await row(page, 'Fix the bike').count());
	// Issue 9: Undo is focused, Space undoes.
	await need(page.getByRole('button', { name: 'Undo' }), 'the Undo button');
	if (!await expectFocus(page, page.getByRole('button', { name: 'Undo' }), 'after delete by keyboard')) return;
	await nav(page, () => page.keyboard.press('Space'));
	eq('restored by Space', 1, await row(page, 'Fix the bike').count());
	await ctx.close();
});

test('phone_width', async () => {
	const ctx = await newContext({ ...PHONE });
	const page = await signUp(ctx, 'phone');
	await addTodos(page, ['Pick up the dry cleaning on the way back from work', 'Call mum'],
		{ 'Call mum': 'About the weekend; also ask for the soup recipe' });
	const overflow = async (what) => {
		const w = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
		check(w[0] <= w[1], `${what}: the page is ${w[0]} px wide in a ${w[1]} px viewport`);
	};
	await overflow('the list');
	await page.getByLabel('Title', { exact: true }).tap();
	await page.keyboard.type('Buy stamps');
	await nav(page, () => page.getByRole('button', { name: 'Add todo' }).tap());
	eq('added by tap', 1, await row(page, 'Buy stamps').count());
	await nav(page, () => check_(page, 'Call mum').tap());
	eq('toggled by tap', 'true', await check_(page, 'Call mum').getAttribute('aria-pressed'));
	// Touch targets: at least 24 px (WCAG 2.5.8), inside the viewport.
	const r = row(page, 'Call mum');
	for (const sel of [TOGGLE, EDIT, DELETE]) {
		const b = await r.locator(sel).boundingBox();
		check(b && b.width >= 24 && b.height >= 24, `${sel}: ${b && Math.round(b.width)}x${b && Math.round(b.height)} px, under 24x24`);
		check(b && b.x >= 0 && b.x + b.width <= 390, `${sel} sticks out of the viewport`);
	}
	await nav(page, () => r.locator(EDIT).tap());
	await overflow('the edit page');
	await nav(page, () => page.getByRole('button', { name: 'Save' }).tap());
	await page.goto('/account');
	await overflow('the account page');
	await page.goto('/todos');
	await nav(page, () => row(page, 'Buy stamps').locator(DELETE).tap());
	eq('deleted by tap', 0, await row(page, 'Buy stamps').count());
	// Issue 9: Undo by tap; the toggled row scrolled back to.
	await need(page.getByRole('button', { name: 'Undo' }), 'the Undo button');
	await nav(page, () => page.getByRole('button', { name: 'Undo' }).tap());
	eq('undone by tap', 1, await row(page, 'Buy stamps').count());
	await addTodos(page, Array.from({ length: 12 }, (_, i) => `Later ${i + 1}`));
	await nav(page, () => check_(page, 'Call mum').tap());
	await expectInViewport(page, row(page, 'Call mum'), 'the toggled row, below the fold');
	await ctx.close();
});

test('times_in_the_persons_zone', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'times');
	await addTodos(page, ['Fresh one']);
	const time = row(page, 'Fresh one').locator('time');
	match('datetime', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$/, await time.getAttribute('datetime'));
	match('title', /^\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d$/, await time.getAttribute('title'));
	eq('relative', 'just now', (await time.innerText()).trim());
	await page.goto('/account');
	const form = page.locator('form[method=post][action="/account/time-zone"]');
	const select = form.getByLabel('Time zone');
	eq('the select', 'time_zone', await select.getAttribute('id'));
	const zones = await select.locator('option').evaluateAll((l) => l.map((o) => o.value));
	check(zones.includes('Europe/Berlin') && zones.includes('America/New_York'), `IANA names: ${zones.slice(0, 5).join(', ')}...`);
	await select.selectOption('Asia/Kolkata');
	await nav(page, () => form.getByRole('button', { name: 'Save time zone' }).click());
	await expectFlash(page, 'Time zone saved.', 'time zone');
	eq('the choice shown', 'Asia/Kolkata', await page.locator('select#time_zone').inputValue());
	await page.goto('/todos');
	match('datetime in Asia/Kolkata', /\+05:30$/, await row(page, 'Fresh one').locator('time').getAttribute('datetime'));
	// Older todos (backdated in the database the app uses: tests/e2e-harness's
	// TODO_E2E_DATABASE_URL): the wording by age, in local calendar days
	// past 24 hours; the title is the datetime's local wall time.
	const dbUrl = process.env.TODO_E2E_DATABASE_URL;
	if (!check(dbUrl, 'no TODO_E2E_DATABASE_URL (run me through tests/e2e-harness)')) return;
	const ages = { 'Five minutes': 5 * 60 + 10, 'Three hours': 3 * 3600 + 10, 'Some days': 3 * 86400 + 3600, 'A month': 30 * 86400 };
	await addTodos(page, Object.keys(ages));
	for (const [t, secs] of Object.entries(ages)) {
		require('child_process').execFileSync('psql', [dbUrl, '-qAtX', '-v', 'ON_ERROR_STOP=1', '-c',
			`UPDATE todos SET created_at = now() - interval '${secs} seconds' WHERE id = ${Number(await todoId(page, t))}`]);
	}
	await page.goto('/todos');
	const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
	// Local (+05:30) calendar day numbers.
	const localDay = (ms) => Math.floor((ms + 5.5 * 3600e3) / 86400e3);
	for (const [t, secs] of Object.entries(ages)) {
		const el = row(page, t).locator('time');
		const dt = await el.getAttribute('datetime');
		const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):\d\d\+05:30$/.exec(dt || '');
		if (!check(m, `${t}: datetime ${dt}`)) continue;
		eq(`${t}: title`, `${Number(m[3])} ${months[m[2] - 1]} ${m[1]}, ${m[4]}:${m[5]}`, await el.getAttribute('title'));
		const days = localDay(Date.now()) - localDay(Date.parse(dt));
		const want = secs < 3600 ? `${Math.floor(secs / 60)} minutes ago`
			: secs < 86400 ? `${Math.floor(secs / 3600)} hours ago`
			: days === 1 ? 'yesterday' : days < 7 ? `${days} days ago`
			: `${Number(m[3])} ${months[m[2] - 1]} ${m[1]}`;
		eq(`${t}: wording`, want, (await el.innerText()).trim());
	}
	await ctx.close();
});

test('error_pages', async () => {
	const ctx = await newContext();
	const page = await signUp(ctx, 'errors');
	let resp = await page.goto('/no-such-page');
	eq('/no-such-page', 404, resp.status());
	eq('404 title', '404 Not Found · Todos', await page.title());
	resp = await page.goto('/todos/2147483000/edit');
	eq('someone else\'s or no todo', 404, resp.status());
	for (const bad of ['/todos?filter=bogus', '/todos?before=x']) {
		resp = await page.goto(bad);
		const s = resp.status();
		check(s === 200 || s === 303 || (s >= 400 && s < 500), `${bad}: ${s}`);
		if (s >= 400) match(`${bad} title`, /^4\d\d .+ · Todos$/, await page.title());
	}
	await ctx.close();
});

// ---- accessibility -----------------------------------------------------

// axe(page, where): axe-core on the page as it is; serious and critical
// violations fail, the others are notes.
async function axe(page, where) {
	const t0 = Date.now();
	await page.addScriptTag({ path: require.resolve('axe-core') });
	const res = await page.evaluate(async () => {
		// eslint-disable-next-line no-undef
		const r = await axe.run(document, { resultTypes: ['violations'] });
		return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map((n) => n.target.join(' ') + (n.failureSummary ? ` (${n.failureSummary.replace(/\s+/g, ' ').slice(0, 160)})` : '')) }));
	});
	for (const v of res) {
		const msg = `${where}: ${v.impact} ${v.id}: ${v.help}: ${v.nodes.slice(0, 3).join('; ')}`;
		if (v.impact === 'serious' || v.impact === 'critical') fail(msg); else note(msg);
	}
	if (process.env.TODO_BROWSER_VERBOSE) note(`${where}: axe took ${Date.now() - t0} ms`);
	return res.length;
}

// Every page and state, in one person's session.
async function axeEverywhere(opts, tag) {
	const ctx = await newContext({ javaScriptEnabled: true, bypassCSP: true, ...opts });
	const anon = await ctx.newPage();
	await anon.goto('/login'); await axe(anon, `${tag} login`);
	await anon.goto('/signup'); await axe(anon, `${tag} signup`);
	await anon.close();
	const page = await signUp(ctx, `axe-${tag}`);
	await axe(page, `${tag} list, empty`);
	await page.getByLabel('Title', { exact: true }).fill('Renew the passport');
	await addDescription(page, 'Photos first; the office closes at 4');
	await nav(page, () => page.getByRole('button', { name: 'Add todo' }).click());
	await axe(page, `${tag} list with a flash`);
	await addTodos(page, Array.from({ length: 50 }, (_, i) => `Errand ${i + 1}`), {}, 4);
	await addTodos(page, ['Plan the trip', 'Answer the letters']);
	for (const t of ['Errand 50', 'Plan the trip']) await post(page, `/todos/${await todoId(page, t)}/toggle`, {});
	await page.goto('/todos');
	await axe(page, `${tag} list with todos`);
	await page.goto('/todos?filter=completed'); await axe(page, `${tag} list, completed`);
	await page.goto('/todos?q=letters'); await axe(page, `${tag} search results`);
	await page.goto('/todos?q=nothing-like-it'); await axe(page, `${tag} search, no match`);
	await page.goto('/todos');
	const older = page.getByRole('link', { name: 'Older →' });
	if (await older.count()) { await nav(page, () => older.click()); await axe(page, `${tag} page 2`); } else fail(`${tag}: no Older link for page 2`);
	await page.goto('/todos');
	await nav(page, () => row(page, 'Plan the trip').locator(DELETE).click());
	await axe(page, `${tag} after delete (undo)`);
	await nav(page, () => row(page, 'Answer the letters').locator(EDIT).click());
	await axe(page, `${tag} edit`);
	await page.getByLabel('Title', { exact: true }).fill('');
	await nav(page, () => page.locator('form.edit-form').evaluate((f) => f.submit()));
	await axe(page, `${tag} edit with an error`);
	await page.goto('/account'); await axe(page, `${tag} account`);
	await page.goto('/no-such-page'); await axe(page, `${tag} 404`);
	await ctx.close();
}

test('axe_light', async () => axeEverywhere({ colorScheme: 'light' }, 'light'));
test('axe_dark', async () => axeEverywhere({ colorScheme: 'dark' }, 'dark'));
test('axe_phone', async () => axeEverywhere({ colorScheme: 'light', ...PHONE }, 'phone'));

// Non-text contrast (WCAG 1.4.11, 3:1), which axe does not check: the
// toggle circle's border and the text inputs' borders against what is
// around them, in both color schemes.
test('contrast_of_controls', async () => {
	for (const scheme of ['light', 'dark']) {
		const ctx = await newContext({ colorScheme: scheme });
		const page = await signUp(ctx, `contrast-${scheme}`);
		await addTodos(page, ['Open one', 'Done one']);
		await nav(page, () => check_(page, 'Done one').click());
		const measure = (loc, prop) => loc.evaluate((el, prop) => {
			const parse = (c) => {
				const m = c.match(/rgba?\(([\d.]+)[, ]+([\d.]+)[, ]+([\d.]+)(?:[, /]+([\d.]+))?/);
				return m ? [+m[1], +m[2], +m[3], m[4] === undefined ? 1 : +m[4]] : [0, 0, 0, 0];
			};
			// The color behind el: the first ancestor with an opaque background.
			let bg = [255, 255, 255, 1];
			for (let p = el.parentElement; p; p = p.parentElement) {
				const c = parse(getComputedStyle(p).backgroundColor);
				if (c[3] > 0.99) { bg = c; break; }
			}
			// The control's own border or fill, or its ::before's when it
			// draws the shape that way (a circle inside a larger target).
			let cs = getComputedStyle(el);
			const shows = (c) => (prop === 'borderTopColor' ? parseFloat(c.borderTopWidth) > 0 : true) && parse(c[prop])[3] > 0;
			if (!shows(cs)) {
				const before = getComputedStyle(el, '::before');
				if (before.content !== 'none' && shows(before)) cs = before;
			}
			return { fg: parse(cs[prop]), bg, w: parseFloat(cs.borderTopWidth) };
		}, prop);
		const lum = ([r, g, b]) => {
			const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
			return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
		};
		const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
		const expect3 = (what, a, b) => {
			const r = ratio(a, b);
			check(r >= 3, `${scheme}: ${what}: contrast ${r.toFixed(2)}:1, under 3:1 (rgb(${a.slice(0, 3)}) on rgb(${b.slice(0, 3)}))`);
		};
		let m = await measure(check_(page, 'Open one'), 'borderTopColor');
		check(m.w >= 1, `${scheme}: the toggle circle has no border`);
		expect3('the toggle circle\'s border', m.fg, m.bg);
		m = await measure(check_(page, 'Done one'), 'backgroundColor');
		expect3('a done toggle\'s fill', m.fg, m.bg);
		for (const sel of ['#title-new', 'textarea[name=description]']) {
			m = await measure(page.locator(sel).first(), 'borderTopColor');
			expect3(`${sel}'s border against the panel`, m.fg, m.bg);
		}
		await ctx.close();
	}
});

// Last, alone: every document every case loaded.
test('no_script_anywhere', async () => {
	check(noScriptPages.length >= 20, `only ${noScriptPages.length} pages seen`);
	for (const [url, has] of noScriptPages) check(!has, `${url} has a <script>`);
	note(`${noScriptPages.length} pages checked`);
});

// ---- the runner ------------------------------------------------------

(async () => {
	const run = only.length ? cases.filter((c) => only.includes(c.name)) : cases;
	if (only.length && run.length !== only.length) {
		console.error(`unknown case: ${only.filter((n) => !cases.some((c) => c.name === n)).join(' ')}`);
		process.exit(2);
	}
	browser = await chromium.launch({
		executablePath, headless: true,
		args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run'],
	});
	const failedNames = [];
	let passed = 0;
	console.log(`[==========] Running ${run.length} test(s).`);
	const runCase = async (c) => {
		const st = { lines: [], failed: false, contexts: [] };
		const t0 = Date.now();
		await running.run(st, async () => {
			try {
				await c.fn();
			} catch (e) {
				// The message, and where in this file it was thrown.
				const at = (e.stack || '').split('\n').find((l) => l.includes('app.test.js:'));
				fail(`${e.message.split('\n')[0]}${at ? ` (${at.trim().replace(/^at .*\(|\)$/g, '').replace(/^.*\//, '')})` : ''}`);
			}
		});
		// A case's contexts are closed even when it failed.
		for (const ctx of st.contexts) await ctx.close().catch(() => {});
		st.lines.push(`    (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
		return st;
	};
	const report = (c, st) => {
		console.log(`[ RUN      ] ${c.name}`);
		for (const l of st.lines) console.log(l);
		if (st.failed) { console.log(`[  FAILED  ] ${c.name}`); failedNames.push(c.name); }
		else { console.log(`[       OK ] ${c.name}`); passed++; }
	};
	// The slow ones first, so the rest fill in beside them.
	const last = run.filter((c) => c.name === 'no_script_anywhere');
	const queue = run.filter((c) => c.name !== 'no_script_anywhere')
		.sort((x, y) => Number(y.name.startsWith('axe_')) - Number(x.name.startsWith('axe_')));
	const results = new Map();
	let next = 0, shown = 0;
	const order = queue.concat(last);
	const flush = () => {
		while (shown < order.length && results.has(order[shown])) { report(order[shown], results.get(order[shown])); shown++; }
	};
	await Promise.all(Array.from({ length: JOBS }, async () => {
		while (next < queue.length) {
			const c = queue[next++];
			results.set(c, await runCase(c));
			flush();
		}
	}));
	for (const c of last) { results.set(c, await runCase(c)); flush(); }
	await browser.close();
	console.log(`[==========] ${run.length} test(s) run.`);
	console.log(`[  PASSED  ] ${passed} test(s).`);
	if (failedNames.length) {
		console.log(`[  FAILED  ] ${failedNames.length} test(s), listed below:`);
		for (const n of failedNames) console.log(`[  FAILED  ] ${n}`);
		console.log(`\n ${failedNames.length} FAILED TEST(S)`);
	}
	process.exit(failedNames.length ? 1 : 0);
})().catch(async (e) => {
	console.error(e);
	if (browser) await browser.close().catch(() => {});
	process.exit(1);
});
