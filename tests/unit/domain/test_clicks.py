"""Click rules: bots are not people, visitors are pseudonymous, the redirect keeps its destination."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chorus.domain.clicks import UnsafeTarget, is_automated, is_link_code, tracked_target, visitor_key
from chorus.domain.tracking import link_code

SECRET = b"s" * 32
BROWSER = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
)
ANDROID_CUBOT = (
    "Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
AUTOMATED_AGENTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Twitterbot/1.0",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "WhatsApp/2.23.20.0",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Applebot/0.1",
    "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
    "Mozilla/5.0 (compatible; AhrefsSpider/1.0)",
    "SomeCrawler/3.1",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.32.3",
    "Go-http-client/2.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/124.0.0.0 Safari/537.36",
    "Barracuda Sentinel (EE)",
    "Mimecast URL Protect",
    "Proofpoint URL Defense urldefense",
    "Microsoft Office SafeLinks",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
    "",
    "   ",
]


class TestIsAutomated:
    @pytest.mark.parametrize("agent", AUTOMATED_AGENTS)
    def test_bots_scanners_and_unfurlers(self, agent):
        assert is_automated(agent, {})

    @pytest.mark.parametrize("agent", [BROWSER, ANDROID_CUBOT])
    def test_browsers_are_people(self, agent):
        assert not is_automated(agent, {"accept-language": "fr-FR,fr;q=0.9"})

    @pytest.mark.parametrize(
        "headers",
        [
            {"purpose": "prefetch"},
            {"Sec-Purpose": "prefetch;prerender"},
            {"sec-purpose": "prefetch"},
            {"X-Purpose": "preview"},
            {"x-moz": "prefetch"},
        ],
    )
    def test_prefetch_and_preview_are_not_clicks(self, headers):
        assert is_automated(BROWSER, headers)


class TestVisitorKey:
    def test_stable_for_the_same_browser(self):
        assert visitor_key(SECRET, "203.0.113.7", BROWSER, "en") == visitor_key(SECRET, "203.0.113.7", BROWSER, "en")

    @pytest.mark.parametrize(
        ("secret", "ip", "agent", "language"),
        [
            (b"t" * 32, "203.0.113.7", BROWSER, "en"),
            (SECRET, "203.0.113.8", BROWSER, "en"),
            (SECRET, "203.0.113.7", ANDROID_CUBOT, "en"),
            (SECRET, "203.0.113.7", BROWSER, "fr"),
            # The separator keeps fields apart: moving text from one field to the next changes the key.
            (SECRET, "203.0.113.7" + BROWSER[:3], BROWSER[3:], "en"),
        ],
    )
    def test_differs_when_anything_differs(self, secret, ip, agent, language):
        assert visitor_key(secret, ip, agent, language) != visitor_key(SECRET, "203.0.113.7", BROWSER, "en")

    @given(st.ip_addresses().map(str), st.text(max_size=200), st.text(max_size=50))
    def test_is_32_hex_digits_and_never_the_ip(self, ip, agent, language):
        key = visitor_key(SECRET, ip, agent, language)
        assert len(key) == 32 and all(c in "0123456789abcdef" for c in key)
        assert ip not in key


_QUERY_CHARS = st.sampled_from([*"abcxyzUTM_utm_=&%+;/?:@!$'()*,.-~09", "utm_source=", "utm_content=", "é"])
_targets = st.builds(
    lambda host, path, query, fragment: (
        f"https://{host}{path}" + (f"?{query}" if query is not None else "") + (f"#{fragment}" if fragment else "")
    ),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?(\.[a-z0-9]{1,10}){1,3}(:[0-9]{1,5})?", fullmatch=True),
    st.from_regex(r"(/[A-Za-z0-9._~%!$'()*+,;=:@-]{0,20}){0,4}", fullmatch=True),
    st.none() | st.lists(_QUERY_CHARS, max_size=40).map("".join),
    st.from_regex(r"[A-Za-z0-9/?=&-]{0,10}", fullmatch=True),
)


class TestTrackedTarget:
    @given(
        _targets,
        st.sampled_from(["linkedin", "x", "mastodon", "sandbox"]),
        st.text(max_size=30),
        st.from_regex(r"c-[0-9a-f]{20}", fullmatch=True),
    )
    def test_keeps_host_and_path_and_sets_the_four_utm_parameters(self, target, network, campaign, content_id):
        result = tracked_target(target, network, campaign, content_id)
        before, after = urlsplit(target), urlsplit(result)
        assert after.scheme == "https"
        assert (after.netloc, after.path, after.fragment) == (before.netloc, before.path, before.fragment)
        params = parse_qs(after.query, keep_blank_values=True)
        assert params["utm_source"] == [network]
        assert params["utm_medium"] == ["employee_advocacy"]
        assert params["utm_campaign"] == [campaign or "chorus"]
        assert params["utm_content"] == [content_id]

    def test_keeps_other_parameters_as_they_were(self):
        result = tracked_target(
            "https://example.com/news?id=7&utm_source=newsletter&UTM_CAMPAIGN=old&utm_term=lyon&q=a+b%20c&flag#top",
            "linkedin",
            "spring",
            "c-1",
        )
        assert result == (
            "https://example.com/news?id=7&utm_term=lyon&q=a+b%20c&flag"
            "&utm_source=linkedin&utm_medium=employee_advocacy&utm_campaign=spring&utm_content=c-1#top"
        )

    def test_non_ascii_is_encoded_for_the_location_header(self):
        result = tracked_target("https://exämple.com/café?q=ü", "x", "", "c-1")
        assert result.isascii()
        assert result.startswith("https://xn--exmple-cua.com/caf%C3%A9?q=%C3%BC&utm_source=x")

    @pytest.mark.parametrize(
        "target",
        [
            "http://example.com/",
            "javascript:alert(1)",
            "//evil.example/",
            "/relative/path",
            "https:///no-host",
            "https://user:pass@example.com/",
            "https://example.com/\r\nSet-Cookie: a=b",
            "https://example.com/ space",
            "ftp://example.com/",
            "",
        ],
    )
    def test_refuses_anything_but_an_absolute_https_url(self, target):
        with pytest.raises(UnsafeTarget):
            tracked_target(target, "x", "", "c-1")


class TestLinkCode:
    def test_real_codes_pass(self):
        assert is_link_code(link_code("e-1#c-1#linkedin"))

    def test_each_revision_has_its_own_code_and_the_first_keeps_the_one_posts_carry(self):
        # An UNCONFIRMED post may be out there; approved again with another url, its link must
        # still lead where it did (tests/integration/test_consent_invariants.py found this).
        approval_id = "e-1#c-1#x"
        assert link_code(approval_id, 1) == link_code(approval_id) == "4RyuGrufQ93Y"  # as before revisions had codes
        codes = {link_code(approval_id, revision) for revision in range(1, 6)}
        assert len(codes) == 5 and all(is_link_code(code) for code in codes)

    @pytest.mark.parametrize(
        "code", ["", "short", "a" * 13, "abc/def%2Fgh", "../../etc/pas", "abcdefghijk#", "https:evil.c"]
    )
    def test_anything_else_is_refused_before_a_read(self, code):
        assert not is_link_code(code)
