"""Page furniture and other non-content: the lines a document view keeps but the tagger never sees.

Web pages, press releases and PDFs carry text that is not a statement: navigation ("Skip to main content",
"Top"), social prompts ("Share this page", "Did you enjoy this article?"), bylines, datelines, "ENDS",
"Notes to editors", contact lines, cookie and browser notices, copyright lines and captions. Tagged as if it
were content, it produced most of the themes given to themeless paragraphs in real documents (issue 12), and
a contact e-mail address was read as "data and digital".

The rules are deliberately narrow: each recognises a shape of line, not a topic, and every rule needs the
paragraph to be short, so a real paragraph that happens to mention cookies or a phone number is kept.
"""

from __future__ import annotations

import re

from classifier.text.paragraphs import MONTH, SOCIAL_LINE, SUPERSCRIPT_DIGITS, TIME_LINE, TOC_ENTRY

_MONTH = MONTH
_DAY = r"(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?"
_DATE = (rf"(?:{_DAY}\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}\.?,?\s+\d{{2,4}}|{_MONTH}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?"
         rf"\s+\d{{2,4}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}|{_MONTH}\s+\d{{4}})")

# Whole-line furniture: the line is nothing but one of these.
_EXACT = re.compile(
    r"^(?:"
    r"top|back to top|return to top|skip to (?:main )?(?:content|navigation|search)|skip navigation|main menu|menu"
    r"|search(?: this site| the site| our site| jobs)?|home|breadcrumb|you are here:?.*|print(?: this page)?|share(?: this(?: page| article| story| post)?)?"
    r"(?: on \w+)?|share:|addtoany|tweet|email this(?: page)?|follow us(?: on .*)?|like us on facebook"
    r"|did you (?:enjoy|find) (?:this|the) (?:article|page|story|post)(?: useful| helpful)?\??"
    r"|(?:is|was) this (?:(?:page|article|information) )?(?:useful|helpful)\??(?:\s*[\u00b7/|]?\s*(?:yes|no))*|yes|no"
    r"|yes no"
    r"|rate this page"
    r"|more (?:news|stories|like this)"
    r"|latest news|news|press releases?|previous(?: article| post)?|next(?: article| post)?"
    r"|back to (?:news|press releases|all news|the top|blog)|read more|find out more|learn more|see more|view all"
    r"|download(?: the)? (?:pdf|document|report|file)|(?:pdf|docx?|xlsx?),? \d+(?:\.\d+)?\s?[km]b"
    r"|ends|- ?ends ?-|\*+ ?ends ?\*+|# # #|###|notes? (?:to|for) (?:editors?|news ?desks?):?|editors'? notes?:?"
    r"|for (?:editors|journalists):?|media (?:contact|enquiries):?|press (?:contact|office|enquiries):?"
    r"|contact(?: us| details)?:?|(?:tags?:|categor(?:y|ies):|filed under:?|topics?:|posted in:?)[^.!?]{0,80}"
    r"|(?:tags?|categor(?:y|ies)|filed under|topics?|posted in):[^.!?]{0,160}"
    r"|cookies?(?: settings| policy| preferences)?|accept(?: all)?(?: cookies)?|reject(?: all)?(?: cookies)?"
    r"|manage cookies|cookie settings|privacy(?: policy| notice)?|terms(?: and conditions| of use)?|accessibility"
    r"|sitemap|site map|sign up|subscribe|newsletter|sign up to our newsletter|close|open|loading\.*"
    r"|minutes:|decision:|supporting documents:?|accessibility statement|freedom of information|report a problem with this page"
    r"|copy link|comments(?: \(\d+\))?|follow|listen|stay in touch|support our work|email|items"
    r"|(?:log|sign) ?(?:in|out)|register|my account|member(?:s'?)? (?:login|log in|area)"
    r"|\d+ comments?|comments are closed|leave a (?:comment|reply)|update (?:your )?browser|ignore|dismiss"
    r"|did you find what you were looking for\??"
    # board papers' and evidence's reference lines
    r"|classification:? (?:official(?:[- ]sensitive)?|public|not protectively marked)"
    r"|(?:paper|report|evidence|response|document|item|forward plan) ref(?:erence)?(?: no\.?)?:? ?[\w/.-]+(?: [\w/.-]+)?"
    r"|agenda item:? ?\d+[a-z]?|(?:wards?|ward\(s\)) affected:.{0,40}|key decision:? (?:yes|no)\b.{0,60}"
    r"|purpose:? for (?:information|decision|approval|assurance|discussion|noting|note)|respondent type:.{0,60}"
    r"|view (?:this email|it|this newsletter) in (?:your|a|the) browser|\u2190? ?older posts|newer posts ?\u2192?"
    r"|version \d+(?:\.\d+)*|liked by \d+ (?:others|people)|translate post|for immediate release(?::? .{0,40})?"
    r"|(?:minute book|complaint|our|your) ref(?:erence)?:? ?[\w/.-]+|(?:report status|date submitted|keywords|cc"
    r"|appendices|previous consideration):.{0,120}|posted \d+ (?:minutes|hours|days|weeks) ago"
    r"|\d+ comments? \u00b7 \d+ shares?|\d{1,2}:\d\d ?[ap]m \u00b7 \d{1,2} " + _MONTH + r"(?: \d{4})?"
    r"|(?:necessary|essential)(?: cookies)? only|manage (?:preferences|settings)|back to news"
    r"|(?:yes|no),? this page was (?:not )?(?:useful|helpful)"
    r")$", re.IGNORECASE)

# The heading of a list of links to other pages ("Related articles", "You might also be interested in", "More from
# the Example Trust"): the lead is furniture, and so are the headlines listed under it (see structure.py).
RELATED_LEAD = re.compile(
    r"^(?:related(?: (?:articles?|content|news|stories|links|pages|documents|topics|posts|reading|jobs|analysis"
    r"|reports?|publications|resources|blogs?|research|insights?|items|information|guidance|events))?"
    r"|you (?:might|may) also (?:like|enjoy|want to read|be interested in)(?: reading)?|further reading|read next"
    r"|also (?:read|on this topic)|most (?:read|popular|viewed)(?: this (?:week|month)| today| stories| articles)?"
    r"|recommended(?: (?:for you|reading|articles?))?"
    r"|(?:latest|other|more) (?:news|stories|blogs?|posts|articles|analysis|publications|insights)"
    r"|more (?:from|by) [^.!?]{1,60}|more on this(?: topic| story)?|in this section|see also|explore (?:more|related) [^.!?]{1,40}"
    # a page's own jump list ("On this page" / "What is the Better Care Fund?" / "Who decides how it is spent?")
    r"|on this page|in this (?:article|guide|explainer|briefing|page)|jump to(?: a section)?|page contents)\W*$",
    re.IGNORECASE)

_RULES = (
    # Bylines: "By Jane Doe", "• By Jane Doe, Health Correspondent".
    re.compile(r"^[\u2022\u00b7*\-\s]*[Bb]y\s+[A-Z][\w.'\u2019-]+(?:\s+[A-Z][\w.'\u2019-]+){0,3}(?:\s*[,|\u2013-].{0,60})?$"),
    # Datelines and publication stamps: "22 Aug 16", "Published: 3 March 2014", "Last updated 4 May 2021".
    re.compile(rf"^(?:(?:first\s+)?published(?:\s+on)?:?|posted(?:\s+on)?:?|updated:?|(?:press|news|media)\s+release\s*[:|\u2013-]?"
               rf"|released(?:\s+on)?:?|last\s+(?:updated|modified|reviewed)"
               rf"(?:\s+on)?:?|date:?)?\s*{_DATE}(?:\s*(?:[|,\u2013\u00b7\u2022-]|by\b)\s*.{{0,40}})?$", re.IGNORECASE),
    # Copyright lines ("(c)" only before a name and a year: "(c) the ICB should publish..." is item (c) of a list).
    re.compile(r"\u00a9.{0,240}$|(?:^|\s)copyright\b.{0,120}$|\(c\)\s+(?:[A-Z][\w&.'-]*\s+){0,6}(?:19|20)\d\d\b"
               r"|all rights reserved", re.IGNORECASE),
    # Cookie and browser notices.
    re.compile(r"\bcookies?\b.{0,200}\b(?:accept|consent|settings|preferences|browser|improve|analytics|use of)\b"
               r"|\b(?:accept|consent|settings|preferences|use|analytics|necessary|essential|functional|marketing"
               r"|advertising|optional)\b.{0,200}\bcookies?\b", re.IGNORECASE),
    re.compile(r"\b(?:your|this) browser\b.{0,120}\b(?:out of date|not supported|upgrade|update|javascript)\b"
               r"|\benable javascript\b|\bjavascript (?:is )?(?:disabled|required|enabled)\b", re.IGNORECASE),
    # Captions and credits.
    re.compile(r"^(?:image|photo|picture|photograph|credit|caption|pictured)\s*(?:credit)?\s*:", re.IGNORECASE),
    # Calls to read, download or share elsewhere.
    re.compile(r"^(?:read|download|view|see|access)\s+(?:the\s+|our\s+)?(?:full|whole|complete)\b.{0,80}$",
               re.IGNORECASE),
    re.compile(r"^(?:share|follow us|find us|connect with us)\b.{0,60}\b(?:facebook|twitter|x|linkedin|instagram"
               r"|whatsapp|email|youtube|bluesky)\b", re.IGNORECASE),
    re.compile(r"^(?:sign up|subscribe)\b.{0,80}(?:\b(?:newsletter|bulletin|updates|e-?mail|e-?news)|\u00a3)",
               re.IGNORECASE),
)

# Shapes that are furniture only in a short line (a sentence or two): breadcrumbs, menus of separated items,
# reading times, "Photo: ..." credits, link and download labels, registration lines, donate and log-in prompts,
# unsubscribe promises, review stamps. Each showed up tagged or stored as content in pasted pages.
_SHORT_RULES = (
    # "Home" capitalised before a crumb separator ("care at home / in the community" is prose)
    re.compile(r"(?:^|\s)Home\s*[>\u203a\u00bb]\s*\S|^[Hh]ome\s*/\s*\S"),
    # any trail of three crumbs or more ("Decisions > Adult care services > Hospital discharge")
    re.compile(r"^[^.!?>\u203a\u00bb]{1,60}(?:\s[>\u203a\u00bb]\s[^.!?>\u203a\u00bb]{1,60}){2,}$"),
    # two crumbs are enough with a separator that prose never uses ("News \u203a Funding")
    re.compile(r"^[^.!?>\u203a\u00bb]{1,40}\s[\u203a\u00bb]\s[^.!?>\u203a\u00bb]{1,40}$"),
    re.compile(r"\b\d{1,3}\s*min(?:ute)?s?\s+read\b|^reading time:", re.IGNORECASE),
    re.compile(r"^(?:written|posted|published)\s+by\s+[A-Z]", re.IGNORECASE),
    re.compile(r"\b(?:[Pp]hoto(?:graph)?|[Ii]mage)(?:\s+credit)?:\s*[A-Z][^.!?]{0,60}$"),
    re.compile(r"\(opens in (?:a )?new (?:tab|window)\)|^translate this page", re.IGNORECASE),
    re.compile(r"\((?:pdf|docx?|xlsx?|odt|csv),?\s*[\d.]+\s?[km]b\)|\bpdf,?\s*[\d.]+\s?[km]b\b|^download (?:this|the|our)\b",
               re.IGNORECASE),
    # ("care homes registered in England fell" is prose: only a registration's own wording counts)
    re.compile(r"\bregistered charity\b|\bcharity (?:no|number)\b|\bcompany (?:limited by guarantee|registered in"
               r"|no\.|number)\b|\bregistered office\b", re.IGNORECASE),
    # moderation notes, draft stamps, print notes and a reporter's name with their beat
    re.compile(r"^comments (?:are closed|on this (?:post|article))\b"
               r"|^(?:these minutes are |draft\s*\W\s*)?subject to approval at the next meeting|^printed on recycled paper"
               r"|^[A-Z][\w'\u2019-]+(?: [A-Z][\w'\u2019-]+){1,3} \| [\w ]{0,30}(?:reporter|correspondent|editor)$"
               r"|^issued:? " + _DATE + r"$", re.IGNORECASE),
    # a paper's background papers, citation, author and disclaimer lines, a transcript's caveat, a signature line
    re.compile(r"^(?:background papers?|suggested citation|how to cite(?: this (?:report|paper))?|cite as|authors?"
               r"|report author|contact officer|lead officer)\s*:|^paper prepared by\b|^the views expressed (?:are|in)\b"
               r"|^uncorrected (?:transcript|oral evidence)\b|^signed\s*\.{3,}|^(?:this|the) (?:article|page|story|post)"
               r" was (?:updated|amended|corrected)\b|^(?:guest )?(?:blog post|blog|post|article) by [A-Z]"
               r"|^(?:published|posted|updated)(?: on)?:? (?:\d{1,2}(?:st|nd|rd|th)? " + _MONTH + r"|\d{1,2}[:.]\d\d)$",
               re.IGNORECASE),
    # a chart's or table's source line, and an endnote ("[3] See our earlier report, Homes and Health (2024).",
    # "\u00b9 Example JSNA 2026.")
    re.compile(r"^sources?\s*:\s*\S|^\[\d{1,3}\]\s|^" + SUPERSCRIPT_DIGITS + r"{1,3}\s*[A-Z\u201c\"]", re.IGNORECASE),
    # a running footer that ends with its page number ("Example ICB Board \u2013 28 January 2027 \u2013 Item 11 Page 2")
    re.compile(r"\sPage \d{1,4}(?: of \d{1,4})?$"),
    # an entry of a table of contents, its page number after a leader of dots ("2. What people told us ..... 4")
    re.compile(TOC_ENTRY),
    # a reader's comment's header ("Margaret T | 17 March 2027, 8:02am")
    re.compile(rf"^[^|.!?]{{1,40}}\s\|\s{_DATE}", re.IGNORECASE),
    # a link between a news story's paragraphs, and a newsletter box's promise
    re.compile(r"^(?:read more|read next|see also|related(?: \w+)?|more on this(?: story)?|also read|listen|watch"
               r"|[\u2190<\u00ab\u2039]?\s*(?:previous|next|older|newer) (?:post|article|story|page|entry))\s*:\s*\S"
               r"|\b(?:straight )?(?:to|in) your inbox\b|^(?:enter )?(?:your )?e-?mail(?: address)?\*?$|\bno spam\b"
               r"|^by (?:signing up|subscribing|registering)\b|^get (?:the|our) [^.!?]{0,40}\b(?:bulletin|newsletter|e-?news)$",
               re.IGNORECASE),
    # an e-mail's header lines, pasted with a forwarded release ("To: support the board ..." is a sentence), a mail
    # system's warning banner, and a site's accessibility toolbar ("Text size A A A | Change colours")
    re.compile(r"^(?:from|sent|to|bcc|subject|date|received|importance):\s.{0,160}[^.!?\s]$"
               r"|^\[(?:external|caution|warning)\b[^\]]{0,30}\]|\bdo not click (?:on )?links or open attachments\b"
               r"|^text size\b|\bchange colou?rs\b|\blisten to this page\b|^(?:high|normal) contrast\b", re.IGNORECASE),
    # a fundraising ask ("\u00a310 could pay for a befriending call")
    re.compile(r"^(?:just )?\u00a3\d+(?:\.\d\d)? (?:a month )?(?:could|would|will|can) (?:pay for|buy|fund|help)\b",
               re.IGNORECASE),
    re.compile(r"\bdonate (?:now|today)\b|\bunsubscribe\b|\blog(?:ged)? in\b.{0,40}\b(?:comment|keep reading|continue)"
               r"|^embargoed\b|^(?:website|site) (?:designed|built|by)\b", re.IGNORECASE),
    # a stamp opens the line ("the strategy was last reviewed in March 2023" is prose)
    re.compile(r"^(?:this )?(?:page )?(?:was )?(?:last (?:reviewed|updated|modified)(?: and (?:reviewed|updated))?"
               r"|next review due)(?: on)?:?\s*"
               + _DATE, re.IGNORECASE),
)
_SHORT_RULE_WORDS = 40
# A line of three or more short items between separators ("Home | About | News", "Privacy · Cookies · Terms").
_SEPARATORS = re.compile(r"\s[|\u00b7\u2022]\s")
_MENU_ITEM_WORDS = 6

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?:\+44\s?|\b0)\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4}\b")
_CONTACT_WORDS = re.compile(r"\b(?:contact|e-?mail|call|phone|telephone|tel|enquiries|press office|media team"
                            r"|communications team|more information|further information|out of hours)\b",
                            re.IGNORECASE)
_FURNITURE_WORDS = 40   # a contact line is a sentence or two, never a paragraph of argument
_MAX_CHARS = 2_000
_CONTENT_WORDS = 12  # words of other sentences beside a contact line that make it a paragraph of content
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\u201c\"'(])")
_SHORT_WORDS = 60       # cookie notices and similar run to a few sentences at most


# A menu pasted from links laid out in a row keeps the spaces or tabs between them ("Contact us    Accessibility
# Privacy    Cookies"); whitespace is collapsed in a paragraph's text, so this looks at the raw lines.
_WIDE_GAP = re.compile(r"\t|\s{3,}")


def has_spaced_menu(raw: str) -> bool:
    """Whether some line of a short raw text is a row of three or more short items set apart by wide gaps."""
    # (most paragraphs have no wide gap at all: the cheap test first)
    if not _WIDE_GAP.search(raw) or len(raw) > _MAX_CHARS or len(raw.split()) > _SHORT_RULE_WORDS:
        return False
    for line in raw.splitlines():
        items = [item for item in _WIDE_GAP.split(line.strip()) if item]
        # each item capitalised and no sentence end: the gaps in a justified line of prose fall between words
        if len(items) >= 3 and all(len(item.split()) <= _MENU_ITEM_WORDS and item[0].isupper() for item in items) \
                and not items[-1].endswith((".", ",", ";", ":")):
            return True
    return False


def is_boilerplate(text: str) -> bool:
    """Whether a paragraph is page furniture or contact/notice text that should never be tagged or searched."""
    if len(text) > _MAX_CHARS:  # furniture is short; a long text is never scanned by the patterns below
        return False
    line = " ".join(text.split()).strip()
    if not line:
        return True
    words = len(line.split())
    bare = line.strip(" .:;|\u2022\u00b7*-\u2013\u2014\u201c\u201d\"'")
    # (a programme's times on lines of their own, "09:30", "2.15pm - 3.00pm", are furniture too)
    if (not bare or _EXACT.match(bare) or _EXACT.match(line) or (words <= 12 and RELATED_LEAD.match(line))
            or TIME_LINE.match(line) or SOCIAL_LINE.match(line)):
        return True
    if words > _SHORT_WORDS:
        return False
    if any(rule.search(line) for rule in _RULES):
        return True
    if words <= _SHORT_RULE_WORDS:
        if any(rule.search(line) for rule in _SHORT_RULES):
            return True
        items = _SEPARATORS.split(line)
        if len(items) >= 3 and all(len(item.split()) <= _MENU_ITEM_WORDS for item in items):
            return True
    if words <= _FURNITURE_WORDS and (_EMAIL.search(line) or _PHONE.search(line)) and _CONTACT_WORDS.search(line):
        # A contact sentence at the end of a real paragraph does not make the paragraph furniture: only the
        # words outside the sentences holding an address or number count as content.
        rest = [s for s in _SENTENCE_END.split(line) if not (_EMAIL.search(s) or _PHONE.search(s))]
        return sum(len(s.split()) for s in rest) <= _CONTENT_WORDS
    return False
