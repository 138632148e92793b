"""Page furniture is recognised by its shape; a paragraph of content that mentions a contact is kept."""

import pytest

from classifier.text.boilerplate import is_boilerplate
from classifier.text.structure import structure


@pytest.mark.parametrize("line", [
    "Did you enjoy this article?", "Top", "AddToAny", "Skip to main content", "• By Sam Example", "ENDS",
    "Notes to editors:", "22 Aug 16", "For more information email info@example.invalid",
    "Media enquiries: press office, 020 7946 0000. Out of hours call 07700 900123.",
    "We use cookies to improve your experience. Accept all cookies.", "© 2024 Example Council. All rights reserved.",
])
def test_furniture_is_boilerplate(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize("text", [
    "The shared care record is run by the council and the local NHS trust, funded from a national digital "
    "fund. Media enquiries: press@example.invalid.",
    "Councils and the NHS must pool budgets for intermediate care; contact between the two is not enough.",
    "Re-designing jobs and qualifications to bridge organisational differences",
])
def test_content_that_mentions_a_contact_is_kept(text):
    assert not is_boilerplate(text)


def test_very_long_text_is_never_scanned():
    assert not is_boilerplate("cookies accept " * 100_000)


def _kinds(text):
    return [(b.kind, b.text) for b in structure(text)]


def test_a_run_of_short_headings_is_a_menu_not_section_headings():
    menu = "Adult social care\n\nHealth and wellbeing boards\n\nWorkforce\n\nPublic health\n\nThe council will spend more."
    assert _kinds(menu) == [("boilerplate", "Adult social care"), ("boilerplate", "Health and wellbeing boards"),
                            ("boilerplate", "Workforce"), ("boilerplate", "Public health"),
                            ("body", "The council will spend more.")]
    # a line of furniture inside the menu does not break it
    assert [k for k, _ in _kinds("Home\nAbout us\nOur work\nAdult social care\n\nWe plan care.")] == [
        "boilerplate"] * 4 + ["body"]


def test_a_documents_own_headings_and_a_long_title_stay_headings():
    doc = ("A plan for joined-up care in Wexcombe over the next five years\n\nSummary\n\nThe council will spend more.\n\n"
           "Workforce\n\nWe will recruit.")
    assert [k for k, _ in _kinds(doc)] == ["heading", "heading", "body", "heading", "body"]
    # two short headings in a row are a title and a section, not a menu
    assert [k for k, _ in _kinds("Our plan\n\nSummary\n\nWe will recruit more carers.")] == ["heading", "heading", "body"]


def test_a_table_of_contents_is_furniture_up_to_the_first_paragraph():
    doc = ("Contents\n1. Introduction\n2. Background\n3. Findings\n4. Recommendations\n\n"
           "The council will spend more on home care.\n\n- Recruit more carers")
    assert _kinds(doc) == [("boilerplate", "Contents"), ("boilerplate", "Introduction"),
                           ("boilerplate", "Background"), ("boilerplate", "Findings"),
                           ("boilerplate", "Recommendations"), ("body", "The council will spend more on home care."),
                           ("list_item", "Recruit more carers")]


def test_a_menu_pasted_without_blank_lines_is_split_into_its_items_and_is_furniture():
    menu = "Home\nAbout us\nOur work\nAdult social care\nHealth and wellbeing\nNews\n\nCouncils and the NHS plan care together."
    assert _kinds(menu) == [("boilerplate", t) for t in
                            ("Home", "About us", "Our work", "Adult social care", "Health and wellbeing", "News")] + [
        ("body", "Councils and the NHS plan care together.")]
    # prose wrapped in a narrow column still joins up
    narrow = "Councils and the NHS have\nagreed to pool budgets for\nNHS continuing care, said\nthe leader."
    assert _kinds(narrow) == [("body", "Councils and the NHS have agreed to pool budgets for NHS continuing care, "
                                       "said the leader.")]


# Furniture of pasted pages that a probe of twenty invented pages found stored or tagged as content.
@pytest.mark.parametrize("line", [
    "Home > News > Health and care news", "Home \u203a Get involved \u203a Consultations", "Home / Newsroom / Press releases",
    "Home | About | Our work | Events | Contact", "Privacy policy \u00b7 Cookie policy \u00b7 Safeguarding policy",
    "By Ann Example, policy officer, 21 May 2027 6 min read", "Reading time: 8 minutes",
    "Posted on 7 February 2027 by Communications Team", "Written by Dr Sam Example",
    "A care worker helps a client at home. Photo: Example Weekly/Jo Example", "Related posts", "Comments (4)",
    "Yes, I'm happy with analytics cookies", "Essential cookies only", "Necessary only", "Was this page useful? Yes",
    "No, this page was not helpful", "Page last reviewed: 28 September 2027 Next review due: 28 September 2028",
    "Download the register of interests (PDF, 240KB)", "Download this evidence (PDF)",
    "Example Forum Ltd. Company registered in England no. 02998877. Registered office: Unit 3, Example Park",
    "Example Action is a registered charity (no. 1034567) and a company limited by guarantee.",
    "Winter appeal: \u00a325 could pay for a befriending call every week. Donate now",
    "We will never share your details. You can unsubscribe at any time.", "You must be logged in to comment.",
    "Subscribe from \u00a31 a week", "Sign up for our monthly e-news for stories and events.",
    "EMBARGOED: 00.01 TUESDAY 6 APRIL 2027", "A first look at the health devolution deals (opens in a new tab)",
    "Example ICB, Riverside House, Quay Street \u00a9 Example ICB 2028 Accessibility statement | Complaints | Privacy",
    "Freedom of information", "Accessibility statement", "Translate this page: Select language",
    "Log in", "Member login", "3 comments", "Comments are closed.", "Is this page useful?", "Update browser",
    "This site works best with JavaScript enabled.", "[3] See our earlier report, Homes and Health (2024).",
    "Care Example Weekly \u203a Workforce", "News \u00bb Funding", "\u00b9 Example JSNA 2027, life expectancy chapter.",
    "Example ICB Board \u2013 28 January 2027 \u2013 Item 11 Page 2", "Margaret T | 17 March 2027, 8:02am",
    "Enter your email address", "Our latest analysis, once a fortnight. No spam.",
    "By signing up you agree to our privacy policy.", "Get the Example Care Review daily bulletin",
    # the furniture of board papers, evidence and bulletins in the training documents
    "Classification: OFFICIAL", "Paper ref: HWB/24/80", "Agenda item 4", "Wards affected: all", "Key decision: No",
    "Purpose: For information", "Evidence reference: ICS 0237", "Respondent type: professional body",
    "Background papers: none", "Suggested citation: Example Trust (2024) Counting what counts?",
    "Paper prepared by Sam Example. Queries to the Board Secretary", "The views expressed are the author's own.",
    "Uncorrected transcript: neither witnesses nor Members have yet had the opportunity to correct the record.",
    "Signed ...................................... (Chair)", "View this email in your browser", "\u2190 Older posts",
    "Was this page useful? Yes \u00b7 No", "Most read this week", "Related reading: Shared care records - where now?",
    "Page last reviewed and updated on 14 October 2024.", "Published 15 April", "Published 09:55", "Version 3.1",
    "This article was updated on 3 February to include a response from the ICB.", "Liked by 45 others",
    "Blog post by Sam Example, parent carer, 30 June 2019", "Did you find what you were looking for?",
    "For immediate release: 2 April 2024", "Minute book reference: 91/97", "Our ref: TBC/24/0712",
    "Keywords: integrated care; adult social care", "Report status: For decision", "Posted 3 days ago",
    "5 comments \u00b7 29 shares", "8:14 PM \u00b7 6 Oct", "Comments on this post are moderated and may take a day.",
    "These minutes are subject to approval at the next meeting.", "Printed on recycled paper. Please pass it on.",
    "Like \u00b7 Reply", "Reply \u00b7 9 likes", "Like \u00b7 \U0001f44d 23 \u00b7 Reply \u00b7 4 replies",
    "\U0001f44d\u2764\ufe0f 412 \u00b7 58 comments", "#HomeFirst #SocialWork #AdultSocialCare",
    "Posted in: Hospital, Mum, Money | Tagged: dementia, discharge, home care, paying for care, carers' breaks",
    "\u2190 Previous post: Twelve things I wish I had known", "Released 8 May 2025 \u00b7 38 min",
    "Sam Example | Local democracy reporter", "Issued 22 Mar 24", "cc: Chief Executives, partner organisations", "\u00a310 could pay for a befriending phone call every week for a month.", "Source: Example analysis of published acute discharge statistics and workforce estimates.",
])
def test_pasted_page_furniture_is_boilerplate(line):
    assert is_boilerplate(line)


@pytest.mark.parametrize("text", [
    # item (c) of a list is not a copyright line; a post quoted from a group is not a "Posted in" category line
    "(c) the ICB should publish, each quarter, the number of people delayed in hospital because of housing.",
    "Posted in the parents' group with the author's permission: We finally got the EHC plan after 61 weeks.",
    "Councils use analytics to plan care, and the ICB wants a shared record in use by 2026.",
    "We will publish the evaluation in 2027. It will show whether the pooled budget has reduced delays.",
    # the furniture shapes' words in prose
    "We want more people supported at home / in their own community, not in hospital.",
    "The number of care homes registered in England fell by 200 last year.",
    "The strategy was last reviewed in March 2023 and no longer reflects the new duties.",
    "The bigger picture: councils are overspending by a billion pounds on care.",
    "We will not ignore what carers told us about respite.", "Get the support you need at home from our reablement team.",
    "Councils told us that the ICB's page 4 figures were wrong.",
    "Purpose: to agree how the pooled budget for home care will be shared between the council and the ICB.",
    "Comments from residents were mostly about delays in getting home from hospital.",
    "Our reference point is the 2019 plan, which promised pooled budgets.",
    "Author of the strategy, the director of public health, said prevention must come first.",
    "Published in March, the plan sets out how the council and the ICB will cut delayed discharges.",
    "We reply to 9 in 10 comments within a week.", "The ICB likes to say it listens \u00b7 but it does not.",
    "Reply",
])
def test_content_with_furniture_words_is_kept(text):
    assert not is_boilerplate(text)


def test_a_running_header_repeated_on_every_page_is_furniture():
    header = "Fenmarch Health and Wellbeing Board"
    doc = "\n\n".join([header, "The board agreed the pooled budget.", header, "Members asked about housing.",
                       header, "The plan was approved."])
    assert [k for k, _ in _kinds(doc)] == ["boilerplate", "body"] * 3
    # twice is a title and a section heading that happen to match, not a running header
    assert [k for k, _ in _kinds("\n\n".join([header, "We met.", header, "We met again."]))][0] == "heading"


def test_headlines_listed_under_a_related_lead_are_furniture_up_to_the_first_sentence():
    page = ("The council will pool its home care budget with the ICB from April.\n\n"
            "Related articles\n"
            "Kelderby raises home care fees above inflation\n"
            "Opinion: we need a career ladder for care, not another advert\n"
            "ICB workforce plans \u2018ignore social care\u2019, say directors\n\n"
            "Share this page\n\n"
            "You must be logged in to comment.\n\n"
            "What happens next\n\n"
            "The board will review the pooled budget in a year.")
    assert _kinds(page) == [
        ("body", "The council will pool its home care budget with the ICB from April."),
        ("boilerplate", "Related articles"),
        ("boilerplate", "Kelderby raises home care fees above inflation Opinion: we need a career ladder for care, "
                        "not another advert ICB workforce plans \u2018ignore social care\u2019, say directors"),
        ("boilerplate", "Share this page"), ("boilerplate", "You must be logged in to comment."),
        # a sentence ended the list: the article's own heading and prose after it are content
        ("heading", "What happens next"), ("body", "The board will review the pooled budget in a year.")]


@pytest.mark.parametrize("lead", ["You might also be interested in", "More from the Example Trust", "Further reading",
                                  "Related analysis", "Most read"])
def test_other_related_leads_start_a_list_of_headlines(lead):
    page = f"{lead}\n\nWhy the Better Care Fund still matters\n\nFive questions for the new ICB chairs"
    assert [k for k, _ in _kinds(page)] == ["boilerplate"] * 3


def test_a_pages_jump_list_is_furniture_and_its_entries_come_back_as_section_headings():
    # An explainer's "On this page" list of questions was tagged like content; each question then heads its
    # section, where it stays a heading.
    questions = ["What is the pooled fund?", "Who decides how it is spent?", "Does it work?"]
    page = "\n\n".join(["On this page", "\n".join(questions),
                         questions[0], "It is one pot of money that the council and the ICB plan together.",
                         questions[1], "A joint board of the council and the ICB agrees the plan each year."])
    kinds = _kinds(page)
    assert kinds[0] == ("boilerplate", "On this page") and kinds[1] == ("boilerplate", " ".join(questions))
    assert kinds[2:] == [(kinds[2][0], questions[0]),
                         ("body", "It is one pot of money that the council and the ICB plan together."),
                         (kinds[4][0], questions[1]),
                         ("body", "A joint board of the council and the ICB agrees the plan each year.")]
    assert kinds[2][0] in ("heading", "body") and kinds[4][0] in ("heading", "body")


@pytest.mark.parametrize("line", ["Decisions > Adult care services > Hospital discharge",
                                  "Our work \u203a Integration \u203a Better Care Fund"])
def test_a_trail_of_three_crumbs_is_furniture(line):
    assert is_boilerplate(line)
    assert not is_boilerplate("Demand for care > supply of care > money to pay for it, the director said.")


def test_a_section_heading_that_is_not_a_related_lead_keeps_its_content():
    page = "More about the pooled budget\n\nWhy it matters to carers\n\nThe fund pays for respite care."
    assert [k for k, _ in _kinds(page)] == ["heading", "heading", "body"]


@pytest.mark.parametrize("line", [
    "Read more: Councils warn of a \u00a32bn gap in care funding", "See also: the ICB's winter plan",
    "Get the latest news, blogs and events from us straight to your inbox.", "Email address",
])
def test_links_between_paragraphs_and_newsletter_prompts_are_furniture(line):
    assert is_boilerplate(line)


def test_short_paragraphs_after_a_lead_in_are_its_items_in_one_style():
    # bullets dropped by a browser: one block of lines
    page = ("The council will:\ninvest \u00a32m in reablement over three years\nrecruit 40 more home care workers\n"
            "publish a joint discharge dashboard every month\n\nThe plan was welcomed by the ICB.")
    assert [k for k, _ in _kinds(page)] == ["body", "list_item", "list_item", "list_item", "body"]
    # items as paragraphs of their own, in one style (all with a full stop); a heading-like item is not a menu
    found = ("Our survey found that:\n\nTwo in three directors expect to overspend.\n\nHalf have cut prevention.\n\n"
             "Most expect to cut more next year.")
    assert [k for k, _ in _kinds(found)] == ["body"] + ["list_item"] * 3
    # items ending ";" or "; and" end with a full stop
    semicolons = ("Our priorities are:\n\nhelping people stay well at home;\n\ngetting people home from hospital; and"
                  "\n\ngiving every child the best start in life.\n\nWe report on them every six months.")
    assert [k for k, _ in _kinds(semicolons)] == ["body"] + ["list_item"] * 3 + ["body"]
    short = "The plan has three aims:\n\nBetter care\n\nHealthier homes\n\nStronger places"
    assert [k for k, _ in _kinds(short)] == ["body"] + ["list_item"] * 3
    # a paragraph in another style ends the list; one short paragraph after a lead-in is not a list
    assert [k for k, _ in _kinds(found + "\n\nWhat happens next\n\nThe board meets in May.")][-2:] == ["heading", "body"]
    assert [k for k, _ in _kinds("The leader said:\n\nWe will pool the budget.\n\nA long paragraph follows here, "
                                 "which is the body of the article and not an item of a list at all, as it goes on "
                                 "and on about the pooled budget and what it will pay for over the next three years "
                                 "in the county and its districts.")] == ["body", "body", "body"]


def test_address_lines_pasted_among_footer_lines_are_furniture_but_a_sentence_is_kept():
    footer = ("Example Borough Council, Civic Centre, Mill Lane, Example EX1 2AB\n"
              "Accessibility | Privacy | Cookies | Site map\n\u00a9 Example Borough Council 2027")
    assert [k for k, _ in _kinds("The council will pool its budget.\n\n" + footer)] == ["body"] + ["boilerplate"] * 3
    shared = "Share this page\nContact us | Privacy | Cookies\nThe Better Care Fund is worth \u00a32bn this year."
    assert [k for k, _ in _kinds(shared)] == ["boilerplate", "boilerplate", "body"]


def test_what_follows_ends_or_notes_to_editors_is_background_and_never_tagged():
    release = ("Councils call for a funded workforce plan.\n\n\"We need a plan for care workers now, with money behind it,\" said the chair.\n\nENDS\n\n"
               "Notes to editors\n\n1. The association represents 331 councils in England.\n\n"
               "2. The funding gap estimate is based on returns from 148 councils.")
    assert [k for k, _ in _kinds(release)] == ["body", "quote"] + ["boilerplate"] * 4
    # "ends" in prose is not the end of a release
    assert [k for k, _ in _kinds("The pilot ends in March.\n\nThe board will review it.")] == ["body", "body"]


def test_menus_set_apart_by_wide_gaps_datelined_press_releases_and_post_links_are_furniture():
    page = ("The council will pool budgets.\n\n"
            "Example Borough Council, Civic Offices, Station Road, Example EX4 2RE\n"
            "Contact us    Accessibility    Privacy    Cookies\n\n"
            "Press release\n21 November 2026\n\n"
            "Previous post: Why our libraries are warm spaces this winter\n\n"
            "Next post: Meet the team: our hoarding support service")
    # ("Press release" and its dateline are two lines of furniture: a date stamp is a line of its own)
    assert [k for k, _ in _kinds(page)] == ["body"] + ["boilerplate"] * 5
    # a justified line of prose pasted with its wide gaps is content
    justified = "The   council   will   pool   its   budget   for   home   care   with   the   ICB   from   April."
    assert [k for k, _ in _kinds(justified)] == ["body"]


def test_a_paragraph_cut_by_a_page_break_is_read_whole_by_both_halves():
    from classifier.text.structure import structure

    header = "Counting the Cost \u2013 County Authorities Network"
    pdf = ("4. We estimate a combined shortfall of \u00a31.9bn in adult social care by 2028/29. Without more "
           "money, the\n\n" + header + "\n\n3\n\nshortfall will be met by cutting preventative services and "
           "raising eligibility thresholds.\n\n" + header + "\n\nThe ICB agreed.\n\n" + header +
           "\n\nit will report in May.")
    blocks = structure(pdf)
    halves = [b for b in blocks if b.whole]
    assert [b.kind for b in halves] == ["list_item", "body"]
    assert halves[0].whole == halves[1].whole == halves[0].text + " " + halves[1].text
    assert halves[1].reading.startswith("We estimate") and halves[1].text.startswith("shortfall")
    # a finished sentence, or text with nothing between, is not a cut paragraph
    assert not any(b.whole for b in blocks if b.text in ("The ICB agreed.", "it will report in May."))
    assert not any(b.whole for b in structure("The council will\n\ninvest in reablement"))
    # a PDF's pages joined with form feeds
    assert [b.whole is not None for b in structure("We will pool the\fbudget for home care.")] == [True, True]


def test_a_footnote_and_a_running_header_at_a_page_break_are_furniture_and_the_cut_paragraph_reads_whole():
    from classifier.text.structure import structure

    header = "The Example Institute | Beyond the hospital: integration and the wider determinants of health"
    pdf = (header + "\n3. Housing as a health service\n"
           "Most of what determines health lies outside the NHS, in homes, work and income, which councils and\n"
           "their partners shape far more than hospitals do. The problems of a coastal town with poor-quality\n"
           "private\n"
           "12 Example Institute analysis of hospital episode statistics for 2025/26; see the\n"
           "technical annex.\n"
           "13\n" + header + "\n"
           "rented homes are not those of an inner-city borough with overcrowding and long waits.")
    blocks = structure(pdf)
    assert [(b.kind, b.text[:12], b.whole is not None) for b in blocks] == [
        ("boilerplate", header[:12], False), ("heading", "3. Housing a", False), ("body", "Most of what", True),
        ("boilerplate", "12 Example I", False), ("boilerplate", "13", False), ("boilerplate", header[:12], False),
        ("body", "rented homes", True)]
    # a wrapped line that starts with a date is not a footnote, away from a page's foot
    prose = ("The council published its plan for pooling the budget for care at home on\n"
             "21 November 2026 and the board will review it in the spring, with the ICB.")
    assert [b.kind for b in structure(prose)] == ["body"]


def test_readers_comments_under_an_article_are_comments_and_their_headers_furniture():
    article = "\n\n".join(["The ICB has cut its contribution to the joint discharge fund by \u00a312m, and the council "
                           "says it was not consulted before the board took the decision in private last week."] * 3)
    page = (article + "\n\n3 comments\n\n"
            "Margaret T | 17 March 2027, 8:02am\n\n"
            "Same thing happened here two years ago. The council ended up picking up the bill.\n\n"
            "Ken B | 17 March 2027, 11:40am\n\nNobody asks the care homes what they think, as usual.")
    assert [k for k, _ in _kinds(page)] == ["body"] * 3 + ["boilerplate", "boilerplate", "comment",
                                                             "boilerplate", "comment"]
    blocks = structure(page)
    assert [b.tagged for b in blocks[-2:]] == [False, True] and not blocks[-1].searchable
    # after "ENDS" everything is background, furniture, whatever it looks like
    release = article + "\n\nENDS\n\nNotes to editors\n\nThe council runs 14 care homes and a reablement service."
    assert [k for k, _ in _kinds(release)][3:] == ["boilerplate"] * 3
    # a blog post's meta line at its head ("0 comments") does not make the post furniture
    post = "Posted by the cabinet member\n\n0 comments\n\n" + article
    assert [k for k, _ in _kinds(post)][-3:] == ["body"] * 3
    # a consultation response's own "Comments" heading is not a count of readers' comments
    assert [k for k, _ in _kinds("Comments\n\nWe support the pooled budget for home care.")][-1] == "body"


@pytest.mark.parametrize("line", [
    "Sent: 09 April 2025 10:03", "To: newsdesk@example-post.example",
    "Subject: JOINT NEWS RELEASE: Hospital care at home for Example patients",
    "[EXTERNAL EMAIL] Do not click links or open attachments unless you recognise the sender.",
    "Text size A A A   |   Change colours   |   Listen to this page",
    "Summary ..................................................... 3",
])
def test_mail_headers_accessibility_toolbars_and_contents_entries_are_furniture(line):
    assert is_boilerplate(line)


def test_a_sentence_that_opens_with_a_header_word_is_content():
    assert not is_boilerplate("To: support the council in its work on reablement, the board will meet monthly.")


def test_a_social_posts_interaction_lines_and_a_podcasts_stamp_are_lines_of_their_own():
    comment = ("Great reporting. Tell the council to pay care workers more.\nReply \u00b7 2 likes\n"
               "#SocialCare #Workforce\n\nThe next comment")
    assert _kinds(comment) == [("body", "Great reporting. Tell the council to pay care workers more."),
                               ("boilerplate", "Reply \u00b7 2 likes"), ("boilerplate", "#SocialCare #Workforce"),
                               ("body", "The next comment")]
    episode = ("Episode 42: Equal partners? Councils, the NHS and the new joint committees\n"
               "Released 8 May 2025 \u00b7 38 min\n\nThe joint committee pools council and NHS money.")
    assert [k for k, _ in _kinds(episode)] == ["heading", "boilerplate", "body"]
