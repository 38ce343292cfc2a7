{#-
    Data tests of a nightly build test what the night wrote. The DAG passes var `run_date`;
    a model whose meta names its `night_scope` column (the night a row comes from, the
    incremental marts' watermark) then has its generic tests read only the rows of the
    window the night's incremental marts rebuilt: from lookback_days before the newest
    night they held (the night before run_date on a normal night). Without the var (by
    hand, `make dbt-build`, `wirehouse rebuild`, CI) every test reads every row.

    Not scoped, whatever the var:
      - `unique` tests: a duplicate can pair a row of the window with an older row (a
        scoped test would see one of the two). They read one key column, cheap on the
        tables, and the marts' delete+insert on unique_key cannot create such a pair anyway;
      - the parent side of `relationships` (only the tested model goes through here).
    `unique_combination_of_columns` is scoped: on the staging views its columns include
    run_date itself; on the mention models they include article_id and every row of an
    article carries the article's one latest analysis night (run_date). Either way both
    rows of a duplicate are inside the window or both outside.
-#}

{% macro night_scope_since() -%}
    {#- The first night a scoped test reads, as a SQL date expression; none when the build
        has no run_date (every row is tested). -#}
    {%- set run_date = var('run_date', none) -%}
    {%- if not run_date -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return("cast('" ~ run_date ~ "' as date) - to_days(" ~ ((var('lookback_days') | int) + 1) ~ ")") }}
{%- endmacro %}


{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set since = night_scope_since() -%}
    {%- set column = none -%}
    {%- if since is not none and model.test_metadata is defined and model.test_metadata
        and model.test_metadata.name != 'unique' and model.attached_node -%}
        {%- set tested = graph.nodes.get(model.attached_node) -%}
        {%- if tested -%}
            {%- set column = (tested.config.meta or {}).get('night_scope') -%}
        {%- endif -%}
    {%- endif -%}
    {%- if column -%}
        {%- set scope = column ~ ' >= ' ~ since -%}
        {%- set where = '(' ~ where ~ ') and ' ~ scope if where else scope -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {{ return(filtered) }}
    {%- else -%}
        {{ return(relation) }}
    {%- endif -%}
{%- endmacro %}
