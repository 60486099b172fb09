-- name: DBeaver: version
-- check: columns
select version()

-- name: DBeaver: keywords
-- check: rows
SELECT string_agg(word, ',') from pg_catalog.pg_get_keywords()

-- name: DBeaver: current schema and user
-- check: rows
SELECT current_schema(),session_user

-- name: DBeaver: databases
-- check: columns
SELECT db.oid,db.* FROM pg_catalog.pg_database db WHERE datallowconn AND NOT datistemplate ORDER BY db.datname

-- name: DBeaver: schemas
-- check: columns
SELECT n.oid,n.*,d.description FROM pg_catalog.pg_namespace n
LEFT OUTER JOIN pg_catalog.pg_description d ON d.objoid=n.oid AND d.objsubid=0 AND d.classoid='pg_namespace'::regclass
 ORDER BY nspname

-- name: DBeaver: tables
-- check: columns
select c.oid,c.*,d.description,pg_catalog.pg_get_expr(c.relpartbound, c.oid) as partition_expr,  pg_catalog.pg_get_partkeydef(c.oid) as partition_key 
from pg_catalog.pg_class c
left outer join pg_catalog.pg_description d on d.objoid=c.oid and d.objsubid=0 and d.classoid='pg_class'::regclass
where c.relnamespace=2200 and c.relkind not in ('i','I','c')

-- name: DBeaver: table names
-- check: rows
select c.relname, c.relkind, d.description from pg_catalog.pg_class c
left outer join pg_catalog.pg_description d on d.objoid=c.oid and d.objsubid=0 and d.classoid='pg_class'::regclass
where c.relnamespace=(select oid from pg_namespace where nspname = 'public') and c.relkind not in ('i','I','c') order by 1

-- name: DBeaver: attributes
-- check: rows
select c.relname,a.attname,a.attnum,a.atttypid::regtype::text,a.attnotnull,pg_catalog.pg_get_expr(ad.adbin, ad.adrelid, true) as def_value,dsc.description,dep.objid
from pg_catalog.pg_attribute a
inner join pg_catalog.pg_class c on (a.attrelid=c.oid)
left outer join pg_catalog.pg_attrdef ad on (a.attrelid=ad.adrelid and a.attnum = ad.adnum)
left outer join pg_catalog.pg_description dsc on (c.oid=dsc.objoid and a.attnum = dsc.objsubid)
left outer join pg_depend dep on dep.refobjid = a.attrelid AND dep.deptype = 'i' and dep.refobjsubid = a.attnum and dep.classid = dep.refclassid
where NOT a.attisdropped and c.relkind not in ('i','I','c') and c.oid='accounts'::regclass
order by a.attnum

-- name: DBeaver: constraints
-- check: rows
select c.conname, c.contype, c.conkey, t.relname as tabrelname,rt.relnamespace as refnamespace,d.description, case when c.contype='c' then "substring"(pg_get_constraintdef(c.oid), 7) else null end consrc_copy
from pg_catalog.pg_constraint c
inner join pg_catalog.pg_class t on t.oid=c.conrelid
left outer join pg_catalog.pg_class rt on rt.oid=c.confrelid
left outer join pg_catalog.pg_description d on d.objoid=c.oid and d.objsubid=0 and d.classoid='pg_constraint'::regclass
where c.conrelid='accounts'::regclass
order by c.oid

-- name: DBeaver: constraint columns
-- check: columns
select c.oid,c.* from pg_catalog.pg_constraint c where c.conrelid='accounts'::regclass

-- name: DBeaver: settings
-- check: count
select * from pg_catalog.pg_settings where name='standard_conforming_strings'

-- name: DBeaver: search path
-- check: rows
SHOW search_path
