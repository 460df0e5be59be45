//! The HTML pages as a person sees them, in a real browser: Debian's
//! headless Chromium driven over the DevTools protocol (`headless_chrome`),
//! on the real `wirefeed serve` running on a copy of the shipped `config/`
//! and `examples/` (as the README starts it), on 127.0.0.1 only.
//!
//! Each test starts its own daemon and browser; it asserts what is shown
//! (order, direction, alignment, colours, layout width) and saves a
//! screenshot under `<CARGO_TARGET_TMPDIR>/screenshots/`.
//!
//! Needs `/usr/bin/chromium` (or `chromium` on PATH): `apt-get install
//! chromium fonts-noto-core`. `BROWSER_TESTS=skip` skips these tests.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _};
use chrono::{DateTime, Duration as Days, FixedOffset};
use headless_chrome::protocol::cdp::{Emulation, Page};
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;

use common::*;

type Result<T = ()> = anyhow::Result<T>;

/// How long a page gets to show a change or finish a navigation.
const PAGE_WAIT: Duration = Duration::from_secs(10);

/// The shipped categories as the navigation lists them: title and slug.
const CATEGORIES: [(&str, &str); 6] = [
    ("World", "world"),
    ("Pakistan", "pakistan"),
    ("Business", "business"),
    ("Sports", "sports"),
    ("Technology", "technology"),
    ("اردو", "urdu"),
];

/// The shipped Markdown article with an image and an audio attachment.
const AUDIO_ARTICLE: &str = "/articles/business-2024-05-24-market-wrap-audio-bulletin.html";

// ---------------------------------------------------------------------------
// Helpers: the browser, the site, running script in a page.
// ---------------------------------------------------------------------------

/// Where Chromium is: `/usr/bin/chromium`, else `chromium` on PATH. None
/// (with a note) when `BROWSER_TESTS=skip`; panics when it is missing.
fn chromium() -> Option<PathBuf> {
    if std::env::var("BROWSER_TESTS").is_ok_and(|v| v == "skip") {
        // Straight to stderr, past the harness's capture.
        let _ = writeln!(
            std::io::stderr(),
            "note: BROWSER_TESTS=skip: browser test skipped"
        );
        return None;
    }
    let default = PathBuf::from("/usr/bin/chromium");
    let on_path = || {
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .map(|dir| dir.join("chromium"))
            .find(|p| p.is_file())
    };
    match default.is_file().then_some(default).or_else(on_path) {
        Some(path) => Some(path),
        None => panic!(
            "Chromium not found (neither /usr/bin/chromium nor `chromium` on PATH): the \
             browser tests drive Debian's chromium. Install it with \
             `apt-get install chromium fonts-noto-core`, or set BROWSER_TESTS=skip to \
             skip these tests"
        ),
    }
}

/// A headless Chromium with a 1200×1600 window (no sandbox: CI runs as
/// root), its profile in `profile`.
fn launch(path: PathBuf, profile: &Path) -> Browser {
    let shown = path.display().to_string();
    Browser::new(LaunchOptions {
        path: Some(path),
        user_data_dir: Some(profile.to_path_buf()),
        headless: true,
        sandbox: false,
        window_size: Some((1200, 1600)),
        idle_browser_timeout: Duration::from_secs(120),
        // Nothing leaves the machine: every host but 127.0.0.1 fails at
        // once (the examples' example.com images show their alt text).
        args: vec![OsStr::new(
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        )],
        ..LaunchOptions::default()
    })
    .unwrap_or_else(|e| panic!("cannot start {shown} over the DevTools protocol: {e:#}"))
}

/// `wirefeed serve` on a fresh copy of `config/` and `examples/`, on a free
/// port of 127.0.0.1 that is also its `site.base_url` (so every link in the
/// pages leads back to it), its state in the scratch directory.
fn serve_shipped(extra: &[(&str, &str)]) -> Daemon {
    let mut site = Site::shipped(extra);
    let base = format!("http://127.0.0.1:{}", site.port);
    let state = site.root().join("state");
    fs::create_dir_all(&state).expect("mkdir state");
    site.env.push(("WIREFEED_SITE_BASE_URL".into(), base));
    site.env.push((
        "WIREFEED_STATE_DIR".into(),
        state.to_string_lossy().into_owned(),
    ));
    Daemon::start_site(site)
}

/// What every test runs on: the daemon on a copy of the shipped site, a
/// browser, and the browser's first tab. Dropped in this order: the
/// browser before its profile.
struct Session {
    tab: Arc<Tab>,
    browser: Browser,
    d: Daemon,
    _profile: Profile,
}

/// Chromium's profile directory, removed once the browser is gone: its
/// helper processes outlive the killed browser for a moment and may still
/// write there, so the removal is retried.
struct Profile(tempfile::TempDir);

impl Drop for Profile {
    fn drop(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while fs::remove_dir_all(self.0.path()).is_err_and(|e| e.kind() != ErrorKind::NotFound)
            && Instant::now() < deadline
        {
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Session {
    /// Starts the browser and the daemon side by side (`extra`: more
    /// `WIREFEED_*` settings). None when the browser tests are skipped.
    fn start(extra: &[(&str, &str)]) -> Option<Session> {
        let chrome = chromium()?;
        let profile = tempfile::Builder::new()
            .prefix("wirefeed-chromium-")
            .tempdir()
            .expect("tempdir");
        let (browser, d) = std::thread::scope(|s| {
            let browser = s.spawn(|| launch(chrome, profile.path()));
            let d = serve_shipped(extra);
            let browser = browser
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            (browser, d)
        });
        let tab = first_tab(&browser);
        Some(Session {
            tab,
            browser,
            d,
            _profile: Profile(profile),
        })
    }
}

/// Runs a test on a new [`Session`] (`extra`: more `WIREFEED_*`
/// settings); an error fails it with the daemon's state and log. Returns
/// at once when the browser tests are skipped.
fn run(extra: &[(&str, &str)], test: impl FnOnce(&Session) -> Result) {
    let Some(session) = Session::start(extra) else {
        return;
    };
    if let Err(e) = test(&session) {
        // The daemon prints its log as it drops during the panic.
        panic!(
            "{e:#}\nat {}; the daemon's /readyz: {:?}",
            session.tab.get_url(),
            session.d.request_status("/readyz")
        );
    }
}

/// The tab Chromium opens at start (a new one if none shows up).
fn first_tab(browser: &Browser) -> Arc<Tab> {
    let first = || browser.get_tabs().lock().ok()?.first().cloned();
    let deadline = Instant::now() + Duration::from_secs(2);
    loop {
        if let Some(tab) = first() {
            return tab;
        }
        if Instant::now() >= deadline {
            return browser.new_tab().expect("open a tab");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `body` (statements ending in `return <value>`, `await` allowed) in
/// the page and returns the value, JSON round-tripped. A script error is
/// an error here.
fn js(tab: &Tab, body: &str) -> Result<Value> {
    let expr = format!(
        "(async () => {{ try {{ return JSON.stringify({{ok: await (async () => {{ {body} }})()}}); }} \
         catch (e) {{ return JSON.stringify({{err: String(e && e.stack || e)}}); }} }})()"
    );
    let result = tab.evaluate(&expr, true)?;
    let text = match result.value {
        Some(Value::String(s)) => s,
        other => bail!("script gave no JSON ({other:?}): {body}"),
    };
    let mut v: Value = serde_json::from_str(&text)?;
    if let Some(err) = v.get("err") {
        bail!("script failed: {err}\n{body}");
    }
    Ok(v["ok"].take())
}

/// [`js`] expecting a string.
fn js_str(tab: &Tab, body: &str) -> Result<String> {
    match js(tab, body)? {
        Value::String(s) => Ok(s),
        other => bail!("expected a string, got {other}: {body}"),
    }
}

/// Polls `body` until it returns `true` (or [`PAGE_WAIT`] passes: an
/// error naming `what` and the last value).
fn wait_js(tab: &Tab, body: &str, what: &str) -> Result {
    let deadline = Instant::now() + PAGE_WAIT;
    loop {
        let last = js(tab, body);
        if matches!(last, Ok(Value::Bool(true))) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            bail!("never {what} (last: {last:?}) at {}", tab.get_url());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Marks the document shown now, so that [`wait_new_page`] can tell the
/// next one from it.
fn mark_page(tab: &Tab) -> Result {
    js(tab, "window.wirefeedOldPage = true; return null")?;
    Ok(())
}

/// Waits until a new document (not the one [`mark_page`] marked) is shown
/// and completely loaded (images included), at `url` when given.
fn wait_new_page(tab: &Tab, url: Option<&str>) -> Result {
    let at = match url {
        Some(url) => format!("location.href === {} && ", serde_json::to_string(url)?),
        None => String::new(),
    };
    wait_js(
        tab,
        &format!("return {at}!window.wirefeedOldPage && document.readyState === 'complete'"),
        &format!(
            "showing a new page{}",
            url.map(|u| format!(" at {u}")).unwrap_or_default()
        ),
    )
}

/// Loads `url` as typed in the address bar and waits until it is loaded.
fn open(tab: &Tab, url: &str) -> Result {
    mark_page(tab)?;
    tab.navigate_to(url)?;
    wait_new_page(tab, Some(url))
}

/// Reloads the page as the reload button does (revalidating what the
/// browser cached) and waits until the new document has loaded.
fn reload(tab: &Tab) -> Result {
    mark_page(tab)?;
    tab.reload(false, None)?;
    wait_new_page(tab, None)
}

/// Clicks the (first) element matching `selector` as a user does (the
/// mouse at its middle), then waits for the page its `href` names.
fn click_link(tab: &Tab, selector: &str) -> Result<String> {
    let sel = serde_json::to_string(selector)?;
    let href = js_str(tab, &format!("return document.querySelector({sel}).href"))?;
    mark_page(tab)?;
    tab.find_element(selector)
        .with_context(|| format!("no {selector}"))?
        .click()?;
    wait_new_page(tab, Some(&href))?;
    Ok(href)
}

/// Saves a PNG of the page as a person scrolls through it (the window's
/// width, the document's whole height) as
/// `<CARGO_TARGET_TMPDIR>/screenshots/<name>.png`, and prints the path.
fn screenshot(tab: &Tab, name: &str) -> Result<PathBuf> {
    // A right-to-left document starts scrolled to its right end.
    let area = js(
        tab,
        "const d = document.documentElement; \
         const x = getComputedStyle(d).direction === 'rtl' ? Math.max(0, d.scrollWidth - innerWidth) : 0; \
         return [x, innerWidth, Math.max(d.scrollHeight, innerHeight)]",
    )?;
    let n = |i: usize| area[i].as_f64().unwrap_or(0.0);
    let png = tab.call_method(Page::CaptureScreenshot {
        format: Some(Page::CaptureScreenshotFormatOption::Png),
        quality: None,
        clip: Some(Page::Viewport {
            x: n(0),
            y: 0.0,
            width: n(1),
            height: n(2),
            scale: 1.0,
        }),
        from_surface: Some(true),
        capture_beyond_viewport: Some(true),
        optimize_for_speed: None,
    })?;
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{name}.png"));
    fs::write(&path, base64_decode(&png.data)?)?;
    // Straight to stderr: shown even when the test passes (the harness
    // captures only the print macros).
    let _ = writeln!(std::io::stderr(), "screenshot: {}", path.display());
    Ok(path)
}

/// Standard base64 (what DevTools sends screenshots in) to bytes.
fn base64_decode(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
    {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => bail!("not base64: {:?}", c as char),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

/// A story in a list, as shown.
#[derive(Debug)]
struct Story {
    title: String,
    href: String,
    category: Option<String>,
    category_href: Option<String>,
    datetime: Option<String>,
    author: Option<String>,
    img_alt: Option<String>,
}

/// The `main ol.stories > li.story` of the page, in order.
fn stories(tab: &Tab) -> Result<Vec<Story>> {
    let v = js(
        tab,
        "const t = (e) => e ? e.textContent.trim() : null; \
         return [...document.querySelectorAll('main ol.stories > li.story')].map(li => { \
           const a = li.querySelector('h2 > a'), c = li.querySelector('p.meta a.category'), \
                 time = li.querySelector('p.meta time[datetime]'), img = li.querySelector('img'); \
           return {title: t(a), href: a && a.href, category: t(c), category_href: c && c.href, \
                   datetime: time && time.getAttribute('datetime'), \
                   author: t(li.querySelector('p.meta span.author')), \
                   img_alt: img && img.getAttribute('alt')}; })",
    )?;
    let s = |item: &Value, k: &str| item[k].as_str().map(str::to_string);
    v.as_array()
        .ok_or_else(|| anyhow!("no story list"))?
        .iter()
        .map(|item| {
            Ok(Story {
                title: s(item, "title").ok_or_else(|| anyhow!("a story without h2 > a"))?,
                href: s(item, "href").unwrap_or_default(),
                category: s(item, "category"),
                category_href: s(item, "category_href"),
                datetime: s(item, "datetime"),
                author: s(item, "author"),
                img_alt: s(item, "img_alt"),
            })
        })
        .collect()
}

/// `href` of every `link[rel=alternate]` in the head.
fn alternates(tab: &Tab) -> Result<Vec<String>> {
    let v = js(
        tab,
        "return [...document.querySelectorAll('head link[rel=alternate]')].map(l => l.href)",
    )?;
    Ok(serde_json::from_value(v)?)
}

/// Emulates `prefers-color-scheme` for the tab.
fn color_scheme(tab: &Tab, scheme: &str) -> Result {
    tab.call_method(Emulation::SetEmulatedMedia {
        media: None,
        features: Some(vec![Emulation::MediaFeature {
            name: "prefers-color-scheme".into(),
            value: scheme.into(),
        }]),
    })?;
    Ok(())
}

/// A phone's viewport: `width`×`height` CSS px, touch, `<meta viewport>`
/// honoured.
fn phone(tab: &Tab, width: u32, height: u32) -> Result {
    tab.call_method(Emulation::SetDeviceMetricsOverride {
        width,
        height,
        device_scale_factor: 2.0,
        mobile: true,
        scale: None,
        screen_width: None,
        screen_height: None,
        position_x: None,
        position_y: None,
        dont_set_visible_size: None,
        screen_orientation: None,
        viewport: None,
        display_feature: None,
        device_posture: None,
    })?;
    Ok(())
}

/// `rgb(r, g, b)` / `rgba(r, g, b, a)` as computed by the browser.
fn parse_rgb(css: &str) -> [f64; 3] {
    let n: Vec<f64> = css
        .split(|c: char| !(c.is_ascii_digit() || c == '.'))
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect();
    assert!(
        css.starts_with("rgb") && n.len() >= 3,
        "not an rgb() colour: {css}"
    );
    if n.len() == 4 {
        assert!(n[3] > 0.99, "a translucent colour: {css}");
    }
    [n[0], n[1], n[2]]
}

/// WCAG 2 relative luminance of an sRGB colour (0 to 255 channels).
fn luminance([r, g, b]: [f64; 3]) -> f64 {
    let lin = |c: f64| {
        let c = c / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
}

/// WCAG 2 contrast ratio (1 to 21).
fn contrast(a: [f64; 3], b: [f64; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

/// A scraped-layout page (README, "Scraped news page") published at
/// 09:30 on `day`.
fn scraped_article(title: &str, day: DateTime<FixedOffset>) -> String {
    format!(
        "{title}\n\
         Imran Siddiqui Published {published} | 09:30 AM\n\
         Karachi, (APP - UrduPoint / Pakistan Point News - {dateline}) Port officials said the \
         cranes damaged in last week's storm were back in service on the morning shift.\n\
         Shipping agents said the backlog of container vessels would be cleared within days.\n\
         Recent Stories\n\
         Some related headline\n\
         More Stories From World\n\
         -\n\
         Another headline4 minutes ago\n",
        published = day.format("%B %-d, %Y"),
        dateline = day.format("%-d %B, %Y"),
    )
}

// ---------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------

/// The index: newest story on top (also after a new article is saved),
/// the category navigation, and the subscribe block with its copy buttons
/// (shown by the page's script, hidden without it).
#[test]
fn index_shows_newest_first_subscribe_links_and_category_navigation() {
    run(
        &[],
        |Session {
             tab, browser, d, ..
         }| {
            open(tab, &d.url("/"))?;

            let root = js(
                tab,
                "return [document.documentElement.lang, document.documentElement.dir]",
            )?;
            assert_eq!(root, serde_json::json!(["en", "ltr"]), "<html lang dir>");

            // One link per category, in the config's order, to its page.
            let nav = js(
                tab,
                "return [...document.querySelectorAll('nav[aria-label=\"Categories\"] a')] \
           .map(a => [a.textContent.trim(), a.href])",
            )?;
            let want: Vec<(String, String)> = CATEGORIES
                .iter()
                .map(|(title, slug)| {
                    (
                        title.to_string(),
                        d.url(&format!("/categories/{slug}.html")),
                    )
                })
                .collect();
            let nav: Vec<(String, String)> = serde_json::from_value(nav)?;
            assert_eq!(nav, want, "the category navigation");

            // Every story: title linking to its page, category, RFC 3339 time;
            // newest first.
            let list = stories(tab)?;
            assert!(list.len() >= 10, "only {} stories on the index", list.len());
            let mut times = Vec::new();
            for s in &list {
                assert!(!s.title.is_empty(), "a story without a title: {s:?}");
                let id = s
                    .href
                    .strip_prefix(&d.url("/articles/"))
                    .and_then(|rest| rest.strip_suffix(".html"));
                assert!(
                    id.is_some_and(|id| !id.is_empty()),
                    "title link not to /articles/<id>.html: {s:?}"
                );
                let category = s.category_href.as_deref().unwrap_or_default();
                assert!(
                    s.category.is_some() && category.starts_with(&d.url("/categories/")),
                    "no category link in p.meta: {s:?}"
                );
                let datetime = s.datetime.as_deref().unwrap_or_default();
                let at = DateTime::parse_from_rfc3339(datetime)
                    .unwrap_or_else(|e| panic!("time[datetime] not RFC 3339 ({e}): {s:?}"));
                if let Some(author) = &s.author {
                    assert!(!author.is_empty(), "an empty span.author: {s:?}");
                }
                if let Some(alt) = &s.img_alt {
                    assert!(!alt.is_empty(), "an image without alt text: {s:?}");
                }
                times.push(at);
            }
            let newest = *times.iter().max().expect("stories");
            assert_eq!(
                times[0], newest,
                "the first story is not the newest: {:?}",
                list[0]
            );
            for (i, pair) in times.windows(2).enumerate() {
                assert!(
                    pair[0] >= pair[1],
                    "story {} is older than story {}: {:?} / {:?}",
                    i,
                    i + 1,
                    list[i],
                    list[i + 1]
                );
            }
            assert!(
                list.iter().filter(|s| s.author.is_some()).count() >= list.len() / 2,
                "most stories should name their author: {list:?}"
            );

            // Subscribe: one group per feed (all + each category), each with its
            // RSS, Atom and JSON addresses and a visible copy button (the script
            // shows them), and the OPML.
            let heading = js_str(
                tab,
                "return document.querySelector('aside#subscribe > h2').textContent.trim()",
            )?;
            assert_eq!(heading, "Subscribe");
            let groups = js(
        tab,
        "const visible = (b) => !b.hidden && b.getClientRects().length > 0 \
           && getComputedStyle(b).visibility === 'visible' && b.offsetWidth > 0; \
         return [...document.querySelectorAll('aside#subscribe ul.feeds')].map(ul => ({ \
           rss: [...ul.querySelectorAll('a[href$=\".rss\"]')].map(a => a.href), \
           atom: [...ul.querySelectorAll('a[href$=\".atom\"]')].map(a => a.href), \
           json: [...ul.querySelectorAll('a[href$=\".json\"]')].map(a => a.href), \
           copies: [...ul.querySelectorAll('button[data-copy]')].map(b => b.dataset.copy), \
           hidden: [...ul.querySelectorAll('button[data-copy]')].filter(b => !visible(b)).length }))",
    )?;
            let groups = groups.as_array().expect("feed groups");
            let slugs: Vec<&str> = std::iter::once("all")
                .chain(CATEGORIES.iter().map(|(_, slug)| *slug))
                .collect();
            assert_eq!(
                groups.len(),
                slugs.len(),
                "one group of addresses per feed: {groups:?}"
            );
            for (group, slug) in groups.iter().zip(&slugs) {
                let links: Vec<String> = ["rss", "atom", "json"]
                    .iter()
                    .map(|ext| d.url(&format!("/feeds/{slug}.{ext}")))
                    .collect();
                for (i, ext) in ["rss", "atom", "json"].iter().enumerate() {
                    assert_eq!(
                        group[ext],
                        serde_json::json!([links[i]]),
                        "{slug}: the .{ext} link"
                    );
                }
                assert_eq!(
                    group["copies"],
                    serde_json::json!(links),
                    "{slug}: copy buttons"
                );
                assert_eq!(group["hidden"], 0, "{slug}: copy buttons not shown");
            }
            let opml = js(
        tab,
        "return [...document.querySelectorAll('aside#subscribe a[href$=\"feeds.opml\"]')].map(a => a.href)",
    )?;
            assert_eq!(
                opml,
                serde_json::json!([d.url("/feeds.opml")]),
                "the OPML link"
            );
            screenshot(tab, "index")?;

            // A new article, dated after every story shown, comes out on top.
            let title = "Harbour Cranes Return To Work After Storm Repairs";
            let day = newest + Days::days(1);
            d.write_article(
                &format!("world/{}-harbour-cranes.txt", day.format("%Y-%m-%d")),
                &scraped_article(title, day),
            );
            let deadline = Instant::now() + PAGE_WAIT;
            loop {
                reload(tab)?;
                let first = stories(tab)?.into_iter().next();
                if first.as_ref().is_some_and(|s| s.title == title) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the index never showed the new article on top; first story: {first:?}\n\
             /readyz: {:?}\nlog:\n{}",
                    d.request_status("/readyz"),
                    d.log()
                );
                std::thread::sleep(Duration::from_millis(200));
            }

            // Clicking a category in the navigation opens its page.
            let href = click_link(
                tab,
                "nav[aria-label=\"Categories\"] a[href$=\"/world.html\"]",
            )?;
            assert_eq!(href, d.url("/categories/world.html"));
            let h1 = js_str(
                tab,
                "return document.querySelector('h1').textContent.trim()",
            )?;
            assert_eq!(h1, "World", "the World page's heading");
            let world = stories(tab)?;
            assert_eq!(
                world.first().map(|s| s.title.as_str()),
                Some(title),
                "the World page's first story"
            );
            assert!(
                world
                    .iter()
                    .all(|s| s.category_href.as_deref() == Some(href.as_str())),
                "a story on the World page that is not in World: {world:?}"
            );
            screenshot(tab, "category-world")?;

            // Without script the copy buttons stay hidden (they would copy
            // nothing).
            let plain = browser.new_tab()?;
            plain.call_method(Emulation::SetScriptExecutionDisabled { value: true })?;
            open(&plain, &d.url("/"))?;
            // The page's script did not run; DevTools' evaluation still does.
            let buttons = js(
                &plain,
                "const all = [...document.querySelectorAll('button[data-copy]')]; \
         return [all.length, all.filter(b => b.getClientRects().length > 0).length]",
            )?;
            assert!(buttons[0].as_u64() > Some(0), "no copy buttons: {buttons}");
            assert_eq!(
                buttons[1], 0,
                "copy buttons shown without script: {buttons}"
            );
            Ok(())
        },
    );
}

/// The Urdu category page: right to left, its text right-aligned as
/// rendered, its alternates the Urdu feeds.
#[test]
fn urdu_category_page_reads_right_to_left() {
    run(&[], |Session { tab, d, .. }| {
        let url = d.url("/categories/urdu.html");
        open(tab, &url)?;

        let root = js(
            tab,
            "return [document.documentElement.dir, document.documentElement.lang]",
        )?;
        assert_eq!(root, serde_json::json!(["rtl", "ur"]), "<html dir lang>");
        let h1 = js_str(
            tab,
            "return document.querySelector('h1').textContent.trim()",
        )?;
        assert_eq!(h1, "اردو");

        // Each summary: laid out right to left, its text flush with the right
        // edge of its story, ragged on the left.
        let shown = js(
            tab,
            "return [...document.querySelectorAll('main li.story')].map(li => { \
           const p = li.querySelector('p.summary'); \
           if (!p) return null; \
           const text = [...p.childNodes].find(n => n.nodeType === Node.TEXT_NODE); \
           const range = document.createRange(); range.selectNodeContents(text); \
           const r = range.getBoundingClientRect(), lines = [...range.getClientRects()], \
                 last = lines[lines.length - 1], box = li.getBoundingClientRect(); \
           return {text: p.textContent, direction: getComputedStyle(p).direction, \
                   textRight: r.right, textLeft: r.left, lastLineLeft: last.left, \
                   lines: lines.length, liRight: box.right, liLeft: box.left}; })",
        )?;
        let shown = shown.as_array().expect("stories");
        assert!(shown.len() >= 3, "Urdu stories: {shown:?}");
        let summaries: Vec<&Value> = shown.iter().filter(|s| !s.is_null()).collect();
        assert!(!summaries.is_empty(), "no summary on the Urdu page");
        for s in summaries {
            let f = |k: &str| s[k].as_f64().unwrap_or(f64::NAN);
            assert_eq!(s["direction"], "rtl", "summary direction: {s}");
            assert!(
                (f("liRight") - f("textRight")).abs() <= 3.0,
                "summary text not flush right in its story: {s}"
            );
            assert!(
                f("lastLineLeft") - f("liLeft") >= 40.0,
                "summary text reaches the left edge of its story (not right-aligned?): {s}"
            );
        }

        let want: Vec<String> = ["rss", "atom", "json"]
            .iter()
            .map(|ext| d.url(&format!("/feeds/urdu.{ext}")))
            .collect();
        assert_eq!(alternates(tab)?, want, "the Urdu page's alternates");
        let v = widths(tab)?;
        assert!(
            v["scrollWidth"].as_f64() <= v["innerWidth"].as_f64(),
            "the Urdu page scrolls sideways: {v}"
        );
        screenshot(tab, "category-urdu")?;

        // The same page at /categories/urdu/.
        open(tab, &d.url("/categories/urdu/"))?;
        let h1 = js_str(
            tab,
            "return document.documentElement.dir + ' ' \
             + document.querySelector('h1').textContent.trim()",
        )?;
        assert_eq!(h1, "rtl اردو", "/categories/urdu/");

        // An Urdu article with an image, opened from the list: right to left
        // too, its image shown, no wider than the window.
        open(tab, &url)?;
        let href = click_link(tab, "main li.story:has(img) h2 > a")?;
        let article = js(
            tab,
            "const img = document.querySelector('article figure img'); \
         return {dir: document.documentElement.dir, lang: document.documentElement.lang, \
                 h1: getComputedStyle(document.querySelector('article > h1')).direction, \
                 image: img && [img.alt, img.naturalWidth]}",
        )?;
        assert_eq!(article["dir"], "rtl", "{href}: {article}");
        assert_eq!(article["lang"], "ur", "{href}: {article}");
        assert_eq!(article["h1"], "rtl", "{href}: {article}");
        let image = article["image"].as_array();
        assert!(
            image.is_some_and(
                |i| i[0].as_str().is_some_and(|a| !a.is_empty()) && i[1].as_f64() > Some(0.0)
            ),
            "{href}: no image, or without alt text, or not loaded: {article}"
        );
        let v = widths(tab)?;
        assert!(
            v["scrollWidth"].as_f64() <= v["innerWidth"].as_f64(),
            "{href} scrolls sideways: {v}"
        );
        screenshot(tab, "article-urdu")?;
        Ok(())
    });
}

/// Article pages: reached by clicking a title on the index; the audio
/// bulletin's image loads from /media/ and its attachment has a player.
#[test]
fn article_pages_open_from_the_index_with_image_and_audio() {
    run(&[], |Session { tab, d, .. }| {
        let index = d.url("/");
        open(tab, &index)?;
        let list = stories(tab)?;
        let first = list.first().expect("a story on the index");

        let href = click_link(tab, "main li.story h2 > a")?;
        assert_eq!(href, first.href);
        let h1 = js_str(
            tab,
            "return document.querySelector('article > h1').textContent.trim()",
        )?;
        assert_eq!(h1, first.title, "the article's heading");
        let page = js(
            tab,
            "const filed = [...document.querySelectorAll('article p.meta')] \
           .find(p => p.textContent.includes('Filed under')); \
         return {meta: !!document.querySelector('article > p.meta time[datetime]'), \
                 paragraphs: document.querySelectorAll('article > p:not(.meta)').length, \
                 filed: filed ? [...filed.querySelectorAll('a')].map(a => a.href) : [], \
                 subscribe: !!document.querySelector('aside#subscribe')}",
        )?;
        assert_eq!(page["meta"], true, "no p.meta with its time: {page}");
        assert!(
            page["paragraphs"].as_u64() >= Some(1),
            "no body paragraphs: {page}"
        );
        assert_eq!(
            page["filed"],
            serde_json::json!([first.category_href]),
            "Filed under: its category"
        );
        assert_eq!(page["subscribe"], true, "no subscribe block");
        let alt = alternates(tab)?;
        let category_feed = first
            .category_href
            .as_deref()
            .and_then(|h| h.strip_suffix(".html"))
            .map(|h| h.replace("/categories/", "/feeds/") + ".rss")
            .expect("a category");
        assert!(
            alt.contains(&category_feed) && alt.contains(&d.url("/feeds/all.rss")),
            "the article's alternates miss {category_feed} or all.rss: {alt:?}"
        );

        // The audio bulletin, found by its link on the index.
        open(tab, &index)?;
        let target = d.url(AUDIO_ARTICLE);
        assert!(
            stories(tab)?.iter().any(|s| s.href == target),
            "no link to {target} on the index"
        );
        click_link(tab, &format!("main li.story h2 > a[href=\"{target}\"]"))?;
        let media = js(
            tab,
            "const img = document.querySelector('article figure img'); \
         if (!img) return null; \
         if (!img.complete) await new Promise(r => { img.onload = img.onerror = r; }); \
         const audio = document.querySelector('article audio'); \
         const status = audio ? (await fetch(audio.currentSrc || audio.src)).status : null; \
         return {alt: img.alt, width: img.naturalWidth, src: img.currentSrc, \
                 caption: (document.querySelector('article figure figcaption') || {}).textContent, \
                 audio: audio && audio.src, audioStatus: status}",
        )?;
        assert!(!media.is_null(), "no figure img on {target}");
        assert!(
            media["alt"].as_str().is_some_and(|a| !a.trim().is_empty()),
            "the image has no alt text: {media}"
        );
        assert!(
            media["src"]
                .as_str()
                .is_some_and(|s| s.starts_with(&d.url("/media/"))),
            "the image is not served from /media/: {media}"
        );
        assert!(
            media["width"].as_f64() > Some(0.0),
            "the image did not load: {media}"
        );
        assert!(
            media["audio"].as_str().is_some_and(|s| s.ends_with(".wav")),
            "no audio player for the attachment: {media}"
        );
        assert_eq!(media["audioStatus"], 200, "the audio file: {media}");
        screenshot(tab, "article")?;
        Ok(())
    });
}

/// With a dark colour scheme preferred, the page turns dark and its text
/// stays readable (WCAG contrast ≥ 7 for body text).
#[test]
fn dark_mode_is_readable() {
    run(&[], |Session { tab, d, .. }| {
        color_scheme(tab, "dark")?;
        open(tab, &d.url("/"))?;
        assert_eq!(
            js(
                tab,
                "return matchMedia('(prefers-color-scheme: dark)').matches"
            )?,
            true,
            "dark scheme not emulated"
        );
        let colors = js(
            tab,
            "const c = (sel, prop) => getComputedStyle(document.querySelector(sel))[prop]; \
         return {bg: c('body', 'backgroundColor'), fg: c('body', 'color'), \
                 link: c('main li.story h2 a', 'color'), meta: c('main p.meta', 'color')}",
        )?;
        let get = |k: &str| parse_rgb(colors[k].as_str().unwrap_or_default());
        let (bg, fg) = (get("bg"), get("fg"));
        assert!(luminance(bg) < 0.05, "the background is not dark: {colors}");
        assert!(luminance(fg) > 0.5, "the text is not light: {colors}");
        let body = contrast(fg, bg);
        assert!(body >= 7.0, "body text contrast {body:.2} < 7: {colors}");
        for k in ["link", "meta"] {
            let ratio = contrast(get(k), bg);
            assert!(ratio >= 4.5, "{k} contrast {ratio:.2} < 4.5: {colors}");
        }
        eprintln!("dark mode: body text contrast {body:.2}: {colors}");
        screenshot(tab, "index-dark")?;
        Ok(())
    });
}

/// The page's width against the window's: `scrollWidth`, `innerWidth` and
/// a few elements sticking out of the window (for the message).
fn widths(tab: &Tab) -> Result<Value> {
    js(
        tab,
        "const d = document.documentElement; \
         const wide = [...document.querySelectorAll('body *')] \
           .filter(e => { const r = e.getBoundingClientRect(); \
                          return r.width > 0 && (r.right > innerWidth + 1 || r.left < -1); }) \
           .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.className ? '.' + e.className : '')); \
         return {scrollWidth: d.scrollWidth, innerWidth: innerWidth, sticking_out: wide}",
    )
}

/// On a 390×844 phone nothing is wider than the screen: no sideways
/// scrolling on the index, the Urdu page or an article.
#[test]
fn phone_width_has_no_horizontal_scroll() {
    run(&[], |Session { tab, d, .. }| {
        phone(tab, 390, 844)?;
        for (path, shot) in [
            ("/", Some("index-phone")),
            ("/categories/urdu.html", None),
            (AUDIO_ARTICLE, None),
        ] {
            open(tab, &d.url(path))?;
            let v = widths(tab)?;
            assert_eq!(v["innerWidth"], 390, "{path}: viewport width: {v}");
            assert!(
                v["scrollWidth"].as_f64() <= v["innerWidth"].as_f64(),
                "{path} scrolls sideways on a phone: {v}"
            );
            if let Some(name) = shot {
                screenshot(tab, name)?;
            }
        }
        Ok(())
    });
}

/// With small pages a category's page links to its earlier stories, and
/// the link leads to them.
#[test]
fn category_pages_link_to_earlier_stories() {
    run(
        &[
            ("WIREFEED_FEEDS_ITEMS", "2"),
            ("WIREFEED_FEEDS_ARCHIVE_ITEMS", "2"),
        ],
        |Session { tab, d, .. }| {
            open(tab, &d.url("/categories/business.html"))?;
            let latest = stories(tab)?;
            // Between feeds.items and feeds.items + archive_items - 1 (README).
            assert!(
                (2..=3).contains(&latest.len()),
                "feeds.items = 2, archive_items = 2: {latest:?}"
            );
            let older = click_link(tab, "nav.pager a[rel=next]")?;
            let number = older
                .strip_prefix(&d.url("/categories/business/"))
                .and_then(|rest| rest.strip_suffix(".html"))
                .and_then(|n| n.parse::<u32>().ok());
            assert!(number.is_some(), "the older page's address: {older}");
            let earlier = stories(tab)?;
            assert!(!earlier.is_empty(), "no stories on {older}");
            let newest_there = earlier
                .iter()
                .filter_map(|s| s.datetime.as_deref())
                .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
                .max();
            let oldest_latest = latest
                .iter()
                .filter_map(|s| s.datetime.as_deref())
                .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
                .min();
            assert!(
                newest_there < oldest_latest,
                "{older} shows stories not older than the category page's: \
                 {earlier:?} / {latest:?}"
            );
            let h1 = js_str(
                tab,
                "return document.querySelector('h1').textContent.trim()",
            )?;
            assert!(h1.starts_with("Business"), "the older page's heading: {h1}");
            Ok(())
        },
    );
}
