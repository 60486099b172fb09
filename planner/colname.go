package planner

import (
	"fmt"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// Result column names, as PostgreSQL gives them (FigureColname, parse_target.c). A
// client sees them in every RowDescription: psql's headers, a driver's rows mapped by
// name, a BI tool's fields. DuckDB names an unaliased item after its whole text
// (count(*) is "count_star()", sum(n) is "sum(n)"), so reads take these instead.

// targetName is the name of a select-list item: its alias, else FigureColname.
func targetName(rt *pg_query.ResTarget) string {
	name, _ := targetColname(rt)
	return name
}

func targetColname(rt *pg_query.ResTarget) (string, bool) {
	if rt.Name != "" {
		return rt.Name, true
	}
	return figureName(rt.Val)
}

// figureName is the name PostgreSQL gives an unaliased select-list expression
// (FigureColname): a
// column's or function's name, a cast's type when its operand has no better name,
// "case", "exists", "array" and so on, else "?column?". known is false when PostgreSQL
// would take the name from a relation's columns that the parse tree does not show (a
// scalar subquery whose one item is a star); the name is then "?column?".
func figureName(n *pg_query.Node) (name string, known bool) {
	name, strength := figureColname(n)
	if strength < 0 {
		return "?column?", false
	}
	if name == "" {
		name = "?column?"
	}
	return name, true
}

// figureColname is PostgreSQL's FigureColnameInternal: a name and its strength, 2 for a
// name of the expression's own (a column, a function), 1 for a fallback (a cast's type,
// "case") that an enclosing cast or CASE may replace, 0 for none. Strength -1 is a name
// of the expression's own that is not known here (figureName).
func figureColname(n *pg_query.Node) (string, int) {
	if n == nil {
		return "", 0
	}
	switch v := n.Node.(type) {
	case *pg_query.Node_ColumnRef:
		if name := lastString(v.ColumnRef.Fields); name != "" {
			return name, 2
		}
	case *pg_query.Node_AIndirection:
		if name := lastString(v.AIndirection.Indirection); name != "" {
			return name, 2
		}
		return figureColname(v.AIndirection.Arg)
	case *pg_query.Node_FuncCall:
		return lastString(v.FuncCall.Funcname), 2
	case *pg_query.Node_AExpr:
		if v.AExpr.Kind == pg_query.A_Expr_Kind_AEXPR_NULLIF {
			return "nullif", 2
		}
	case *pg_query.Node_TypeCast:
		name, strength := figureColname(v.TypeCast.Arg)
		if strength <= 1 && v.TypeCast.TypeName != nil {
			return lastString(v.TypeCast.TypeName.Names), 1
		}
		return name, strength
	case *pg_query.Node_CollateClause:
		return figureColname(v.CollateClause.Arg)
	case *pg_query.Node_GroupingFunc:
		return "grouping", 2
	case *pg_query.Node_SubLink:
		switch v.SubLink.SubLinkType {
		case pg_query.SubLinkType_EXISTS_SUBLINK:
			return "exists", 2
		case pg_query.SubLinkType_ARRAY_SUBLINK:
			return "array", 2
		case pg_query.SubLinkType_EXPR_SUBLINK:
			// The subquery's one column's name (its alias, else its own figured name).
			if sel := v.SubLink.Subselect.GetSelectStmt(); sel != nil {
				if names := SelectNames(sel); len(names) > 0 {
					if names[0].Name == "" {
						return "", -1
					}
					return names[0].Name, 2
				}
			}
		}
	case *pg_query.Node_CaseExpr:
		name, strength := figureColname(v.CaseExpr.Defresult)
		if strength <= 1 {
			return "case", 1
		}
		return name, strength
	case *pg_query.Node_AArrayExpr:
		return "array", 2
	case *pg_query.Node_RowExpr:
		return "row", 2
	case *pg_query.Node_CoalesceExpr:
		return "coalesce", 2
	case *pg_query.Node_MinMaxExpr:
		if v.MinMaxExpr.Op == pg_query.MinMaxOp_IS_LEAST {
			return "least", 2
		}
		return "greatest", 2
	case *pg_query.Node_SqlvalueFunction:
		if name, ok := sqlValueNames[v.SqlvalueFunction.Op]; ok {
			return name, 2
		}
	case *pg_query.Node_XmlSerialize:
		return "xmlserialize", 2
	}
	return "", 0
}

var sqlValueNames = map[pg_query.SQLValueFunctionOp]string{
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_DATE:        "current_date",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIME:        "current_time",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIME_N:      "current_time",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP:   "current_timestamp",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N: "current_timestamp",
	pg_query.SQLValueFunctionOp_SVFOP_LOCALTIME:           "localtime",
	pg_query.SQLValueFunctionOp_SVFOP_LOCALTIME_N:         "localtime",
	pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP:      "localtimestamp",
	pg_query.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:    "localtimestamp",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_ROLE:        "current_role",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_USER:        "current_user",
	pg_query.SQLValueFunctionOp_SVFOP_USER:                "user",
	pg_query.SQLValueFunctionOp_SVFOP_SESSION_USER:        "session_user",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:     "current_catalog",
	pg_query.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:      "current_schema",
}

// lastString is the last String among nodes (a qualified name's last part, skipping
// a trailing * or subscript); "" when there is none.
func lastString(nodes []*pg_query.Node) string {
	name := ""
	for _, f := range nodes {
		if s := f.GetString_(); s != nil {
			name = s.Sval
		}
	}
	return name
}

// ResultName is the name of a result column, or of the columns a star brings.
type ResultName struct {
	Name string // "" when the parse tree does not tell it
	Star bool   // * or t.*: the columns of a relation, as many as it has
}

// SelectNames returns the names of sel's result columns as PostgreSQL gives them: a
// set operation's come from its leftmost SELECT, VALUES' are column1, column2, ….
// nil when sel has no select list of its own.
func SelectNames(sel *pg_query.SelectStmt) []ResultName {
	for sel.Op != pg_query.SetOperation_SETOP_NONE && sel.Larg != nil {
		sel = sel.Larg
	}
	if len(sel.ValuesLists) > 0 {
		first := sel.ValuesLists[0].GetList()
		if first == nil {
			return nil
		}
		names := make([]ResultName, len(first.Items))
		for i := range names {
			names[i].Name = fmt.Sprintf("column%d", i+1)
		}
		return names
	}
	names := make([]ResultName, 0, len(sel.TargetList))
	for _, t := range sel.TargetList {
		rt := t.GetResTarget()
		if rt == nil {
			return nil
		}
		if star, _ := isStar(rt.Val); star {
			names = append(names, ResultName{Star: true})
			continue
		}
		name, known := targetColname(rt)
		if !known {
			name = ""
		}
		names = append(names, ResultName{Name: name})
	}
	return names
}
