{#- Name normalisation for catalog matching across sources (a listening export, the API and every catalog
    spell the same track differently). Every rule below has a dbt unit test (int_plays_unioned.yml).

    normalize_text - the shared base for artists and titles, in this order:
      1. lower case, trimmed; accents folded (é -> e, ø -> o, æ -> ae, ß -> ss, ...);
      2. apostrophes dropped, not spaced: "Don't" = "Dont" (straight, curly and back quotes);
      3. "&", "+" and the word "and" are one joiner and dropped: "Simon & Garfunkel" = "Simon and Garfunkel";
      4. punctuation runs collapse to one space; letters and digits of every script are kept (Unicode
         classes, so a Japanese or Cyrillic title keeps a key);
      5. a leading "the" is dropped: "The Beatles" = "Beatles";
      6. an empty result is null (never matches).
    normalize_artist - a trailing "feat. X" / "ft. X" / "featuring X" credit is dropped, then normalize_text.
    normalize_title  - featured-artist credits and edition suffixes are dropped, then normalize_text:
      - "(feat. X)", "[ft. X]", "(featuring X)", "(with X)" anywhere, and a trailing " feat. X" / " ft. X" / " featuring X";
      - edition markers in parentheses/brackets or after " - ": remaster(ed) [year], live [at ...],
        radio edit, single/album version, single edit, mono, stereo, deluxe, bonus track, explicit/clean
        version, "(Taylor's Version)"-style "<name>'s version", "(From the Vault)".
      Editions that are a different recording on purpose stay part of the title: remix, acoustic, slowed,
      sped up, instrumental, demo. A live recording is matched to the studio title (its features differ,
      but the ladder prefers an exact title when the catalog has the live version too: int_plays_matched).
    normalize_name   - the title rules, kept for callers of the old single macro. -#}

{% macro fold_accents(expr) -%}
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        translate(
            {{ expr }},
            'áàâäãåāăąçćčďđéèêëēėęěğíìîïīįıłñńňóòôöõøōőřśšşťúùûüūůűųýÿžźż',
            'aaaaaaaaacccddeeeeeeeegiiiiiiilnnnoooooooorsssstuuuuuuuuyyzzz'
        ),
        'æ', 'ae'), 'œ', 'oe'), 'ß', 'ss'), 'þ', 'th')
{%- endmacro %}

{% macro normalize_text(column) -%}
    nullif(trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        {{ fold_accents('lower(trim(' ~ column ~ '))') }},
        '[\\x27\\x60\\u00b4\\u2018\\u2019]', ''),
        '&|\\+|\\band\\b', ' '),
        '[^\\p{L}\\p{N}]+', ' '),
        '^\\s*the\\s+', '')), '')
{%- endmacro %}

{% macro normalize_artist(column) -%}
    {{ normalize_text("regexp_replace(lower(" ~ column ~ "), '\\\\s+(feat\\\\.?|ft\\\\.|featuring)\\\\s.*$', '')") }}
{%- endmacro %}

{% macro title_editions() -%}
    {{- return("remaster|\\\\blive\\\\b|radio edit|single version|album version|single edit|\\\\bmono\\\\b|\\\\bstereo\\\\b|deluxe|bonus track|explicit version|clean version|[\\\\p{L}]+[\\\\x27\\\\u2019]s version|from the vault") -}}
{%- endmacro %}

{% macro strip_title_decorations(column) -%}
    regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        lower(trim({{ column }})),
        '\\s*[(\\[](feat|ft|featuring|with)\\b[^)\\]]*[)\\]]', ''),
        '\\s+(feat\\.?|ft\\.|featuring)\\s.*$', ''),
        '\\s*[(\\[][^)\\]]*({{ title_editions() }})[^)\\]]*[)\\]]', ''),
        '\\s+-\\s+[^-]*({{ title_editions() }})[^-]*$', '')
{%- endmacro %}

{% macro normalize_title(column) -%}
    {{ normalize_text(strip_title_decorations(column)) }}
{%- endmacro %}

{% macro normalize_name(column) -%}
    {{ normalize_title(column) }}
{%- endmacro %}
