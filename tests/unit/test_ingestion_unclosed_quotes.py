"""Which bad rows pyarrow hands the invalid-row handler swallowed the lines after an unclosed quote."""

from __future__ import annotations

import pytest

from adapters.pyarrow_files.unclosed_quotes import UnclosedQuote, swallowed_lines


@pytest.mark.parametrize(("text", "found"), [
    ('60,"n60,60.0,true\n61,n61,61.0,true\n62,n62', UnclosedQuote(62, 2)),
    ('60,"n60,60.0\r\n61,n61\r\n62,n62', UnclosedQuote(62, 2)),  # CRLF: one break each
    ('60,"a""b,60.0\n61,n61', UnclosedQuote(62, 1)),  # a doubled quote inside the open value
    ('60,"two\nlines",x,"open\n61,n61\n62', UnclosedQuote(63, 2)),  # opened on the row's second line
])
def test_a_quote_left_open_across_lines_names_the_line_it_opened_on(text: str, found: UnclosedQuote) -> None:
    assert swallowed_lines(text, 62) == found


@pytest.mark.parametrize("text", [
    "1,2,3",  # ragged, no quote
    '4,"5,6',  # opened on the file's last line: nothing swallowed, an ordinary reject
    '1,"two\nlines",3,4',  # closed: one record over two lines, ragged
    '1,"a""b",3,4',
])
def test_other_bad_rows_stay_rejects(text: str) -> None:
    assert swallowed_lines(text, 5) is None


def test_a_row_pyarrow_did_not_number_still_counts_its_lines() -> None:
    assert swallowed_lines('1,"x\n2,y', None) == UnclosedQuote(None, 1)
