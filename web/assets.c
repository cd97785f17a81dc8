/* assets.c — the console's style sheet and its one small script, built
 * into the program (no CDN, nothing to install beside the binary).  Every
 * page works without the script: it only refreshes the template preview as
 * an admin types. */
#include "web/web-internal.h"

#include <string.h>

static const char console_css[] =
    ":root{--ink:#1d2530;--muted:#5b6675;--line:#d7dde5;--bg:#f5f7fa;--card:#fff;"
    "--accent:#0b5cad;--bad:#b3261e;--warn:#8a5a00;--good:#1e6b34}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;font-family:system-ui,'Hiragino Sans','Noto Sans CJK JP','IPAGothic',"
    "'Yu Gothic',sans-serif;color:var(--ink);background:var(--bg);font-size:15px;"
    "line-height:1.55}\n"
    "header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;"
    "padding:.55rem 1.2rem;background:#12304f;color:#fff}\n"
    "header a{color:#fff;text-decoration:none}\n"
    "header .brand{font-weight:700;letter-spacing:.03em}\n"
    "header nav{display:flex;flex-wrap:wrap;gap:.2rem .9rem;flex:1}\n"
    "header nav a{padding:.15rem .3rem;border-bottom:2px solid transparent}\n"
    "header nav a[aria-current]{border-bottom-color:#8cc4ff}\n"
    "header .who{display:flex;gap:.8rem;align-items:center;font-size:.9rem}\n"
    "header .who button{background:transparent;color:#fff;border:1px solid #8fa7c0;"
    "padding:.1rem .6rem}\n"
    "main{max-width:1280px;margin:0 auto;padding:1rem 1.2rem 3rem}\n"
    "h1{font-size:1.45rem;margin:.4rem 0 1rem}\n"
    "h2{font-size:1.1rem;margin:1.6rem 0 .6rem;border-bottom:1px solid var(--line);"
    "padding-bottom:.2rem}\n"
    "footer{color:var(--muted);font-size:.8rem;text-align:center;padding:1rem}\n"
    "a{color:var(--accent)}\n"
    "table{border-collapse:collapse;width:100%;background:var(--card);font-size:.92rem}\n"
    "th,td{border-bottom:1px solid var(--line);padding:.35rem .5rem;text-align:left;"
    "vertical-align:top}\n"
    "th{background:#eef2f7;font-weight:600;white-space:nowrap}\n"
    "tr.overdue td{background:#fdecea}\n"
    "tr.soon td{background:#fff6e0}\n"
    ".num{text-align:right;font-variant-numeric:tabular-nums}\n"
    ".late{color:var(--bad);font-weight:700}\n"
    ".muted,.hint{color:var(--muted);font-size:.88rem}\n"
    ".badge{display:inline-block;padding:0 .45rem;border-radius:.7rem;font-size:.82rem;"
    "background:#e3e9f1;white-space:nowrap}\n"
    ".badge.triage,.badge.failed{background:#fde2e0}\n"
    ".badge.pending,.badge.awaiting_verification{background:#fff0c7}\n"
    ".badge.sent,.badge.closed,.badge.answered{background:#dcf1e2}\n"
    ".flag{color:var(--bad);font-weight:600}\n"
    ".notice{padding:.6rem .8rem;border-radius:.3rem;border:1px solid var(--line);"
    "background:var(--card)}\n"
    ".notice.error{border-color:#e7a7a2;background:#fdecea;color:var(--bad)}\n"
    ".notice.warn{border-color:#e8cf8f;background:#fff6e0;color:var(--warn)}\n"
    ".notice.ok{border-color:#9fd0ab;background:#e8f6ec;color:var(--good)}\n"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:.4rem;"
    "padding:.8rem 1rem;margin:.6rem 0}\n"
    ".grid{display:grid;grid-template-columns:minmax(0,3fr) minmax(0,2fr);gap:1.2rem}\n"
    "@media (max-width:900px){.grid{grid-template-columns:1fr}}\n"
    "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}\n"
    "dl.facts dt{color:var(--muted)}\n"
    "dl.facts dd{margin:0}\n"
    "pre.mail{white-space:pre-wrap;word-break:break-word;font-family:inherit;"
    "background:#fafbfc;border:1px solid var(--line);padding:.6rem .8rem;margin:.4rem 0;"
    "max-height:32rem;overflow:auto}\n"
    "pre.plain{white-space:pre-wrap;word-break:break-word;font-family:inherit;margin:0}\n"
    ".message{border-left:4px solid #9db6d3;padding-left:.8rem;margin:1rem 0}\n"
    ".message.out{border-left-color:#7fbf8e}\n"
    ".message .meta{font-size:.88rem;color:var(--muted)}\n"
    "figure.document{margin:.5rem 0;background:#fff;border:1px solid var(--line);"
    "padding:.5rem}\n"
    "figure.document img{max-width:100%;max-height:28rem;display:block;margin:0 auto}\n"
    "figure.document figcaption{font-size:.85rem;color:var(--muted);margin-top:.3rem}\n"
    "form{margin:0}\n"
    "form.inline{display:inline}\n"
    "form.action{background:var(--card);border:1px solid var(--line);border-radius:.4rem;"
    "padding:.6rem .8rem;margin:.5rem 0}\n"
    "form.action h3{font-size:.98rem;margin:0 0 .4rem}\n"
    "label{display:block;margin:.3rem 0}\n"
    "label.check{display:inline-block;margin-right:1rem}\n"
    "input[type=text],input[type=date],input[type=password],input:not([type]),select,"
    "textarea{font:inherit;padding:.3rem .4rem;border:1px solid #b8c2cf;border-radius:.25rem;"
    "max-width:100%}\n"
    "input[name=subject]{width:100%}\n"
    "textarea{width:100%;min-height:6rem}\n"
    "textarea.body,textarea.template{min-height:26rem;font-family:ui-monospace,monospace;"
    "font-size:.9rem}\n"
    "button{font:inherit;padding:.3rem .9rem;border-radius:.25rem;border:1px solid #0b4c8f;"
    "background:var(--accent);color:#fff;cursor:pointer}\n"
    "button.secondary{background:#fff;color:var(--accent)}\n"
    "button.danger{background:var(--bad);border-color:#7d1a15}\n"
    ".filters{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:end;margin-bottom:.8rem}\n"
    ".filters label{margin:0}\n"
    ".chips{display:flex;flex-wrap:wrap;gap:.4rem;margin:.4rem 0 1rem}\n"
    ".chips a{text-decoration:none}\n"
    "form.login{max-width:22rem;background:var(--card);border:1px solid var(--line);"
    "padding:1rem;border-radius:.4rem}\n"
    "form.login input{width:100%}\n"
    "form.login button{margin-top:.6rem}\n"
    "ul.problems{color:var(--bad);padding-left:1.2rem}\n"
    "mark.placeholder{background:#ffd9d6;color:var(--bad)}\n"
    "#preview .pending{opacity:.5}\n";

static const char console_js[] =
    "// privacy-inbox console: refresh the template preview while an admin types.\n"
    "// Everything works without it (the Preview button posts the same form).\n"
    "'use strict';\n"
    "document.addEventListener('DOMContentLoaded', function () {\n"
    "  var form = document.getElementById('template-form');\n"
    "  var preview = document.getElementById('preview');\n"
    "  if (!form || !preview || !window.fetch) return;\n"
    "  var timer = null, seq = 0;\n"
    "  function refresh() {\n"
    "    var data = new URLSearchParams(new FormData(form));\n"
    "    data.set('fragment', '1');\n"
    "    var mine = ++seq;\n"
    "    preview.classList.add('pending');\n"
    "    fetch(form.getAttribute('data-preview'), {method: 'POST', body: data,\n"
    "        credentials: 'same-origin'})\n"
    "      .then(function (r) { return r.ok || r.status === 422 ? r.text() : null; })\n"
    "      .then(function (html) {\n"
    "        if (mine !== seq) return;\n"
    "        preview.classList.remove('pending');\n"
    "        if (html !== null) preview.innerHTML = html;\n"
    "      })\n"
    "      .catch(function () { preview.classList.remove('pending'); });\n"
    "  }\n"
    "  form.addEventListener('input', function () {\n"
    "    clearTimeout(timer);\n"
    "    timer = setTimeout(refresh, 600);\n"
    "  });\n"
    "});\n";

gboolean
web_asset(web_request_t *r, const char *name)
{
	const char *data;
	gsize len;

	if (strcmp(name, "console.css") == 0) {
		data = console_css;
		len = sizeof(console_css) - 1;
		r->content_type = "text/css; charset=utf-8";
	} else if (strcmp(name, "console.js") == 0) {
		data = console_js;
		len = sizeof(console_js) - 1;
		r->content_type = "text/javascript; charset=utf-8";
	} else
		return FALSE;
	g_string_append_len(r->body, data, (gssize)len);
	r->cacheable = TRUE;
	return TRUE;
}
