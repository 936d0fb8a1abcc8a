{#- Normalise a track title or artist name for catalog matching across sources:
    lower case, accents folded, "(feat. X)" / "feat. X" credits and "- Remastered 2011"-style
    edition suffixes removed, punctuation collapsed to single spaces. Editions that change the
    recording (live, slowed, acoustic, remix) are kept on purpose: they are different tracks. -#}
{% macro normalize_name(column) -%}
    nullif(trim(regexp_replace(regexp_replace(regexp_replace(regexp_replace(regexp_replace(
        translate(
            lower(trim({{ column }})),
            'áàâäãåāăąçćčďéèêëēėęěğíìîïīįıłñńňóòôöõøōőřśšşťúùûüūůűųýÿžźż',
            'aaaaaaaaacccdeeeeeeeegiiiiiiilnnnoooooooorsssstuuuuuuuuyyzzz'
        ),
        '[(\\[](feat|ft|featuring|with)[. ][^)\\]]*[)\\]]', ''),
        ' (feat|ft|featuring)[. ].*$', ''),
        ' - [^-]*(remaster|radio edit|single version|album version|mono|stereo|deluxe|bonus track)[^-]*$', ''),
        '[(\\[][^)\\]]*(remaster|radio edit|single version|album version|mono|stereo|deluxe|bonus track)[^)\\]]*[)\\]]', ''),
        '[^a-z0-9]+', ' ')), '')
{%- endmacro %}
