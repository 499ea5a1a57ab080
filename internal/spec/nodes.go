package spec

import (
	"fmt"
	"reflect"

	yaml "go.yaml.in/yaml/v4"
)

func (dur *Duration) decodeNode(d *decoder, n *yaml.Node, path string) {
	s, ok := d.scalar(n, path, "a duration")
	if !ok || s == "" {
		return
	}
	v, err := ParseDuration(s)
	if err != nil {
		d.errorf(n, "%s: %v", path, err)
		return
	}
	*dur = v
}

func (e *Enabled) decodeNode(d *decoder, n *yaml.Node, path string) {
	s, ok := d.scalar(n, path, "true, false or if-set")
	if !ok {
		return
	}
	switch s {
	case EnabledTrue, EnabledFalse, EnabledIfSet:
		e.mode = s
	case "":
	default:
		d.errorf(n, "%s: want true, false or if-set, got %q", path, s)
	}
}

func (ls *Labels) decodeNode(d *decoder, n *yaml.Node, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: want a mapping of name to value, got %s", path, kindName(n))
		return
	}
	seen := map[string]*yaml.Node{}
	out := make(Labels, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, ok := d.key(n.Content[i], path, seen)
		if !ok {
			continue
		}
		val, ok := d.resolve(n.Content[i+1])
		if !ok {
			continue
		}
		p := join(path, name)
		d.src.pos[p] = d.pos(val)
		if s, ok := d.scalar(val, p, "a string"); ok {
			out = append(out, Label{Name: name, Value: s})
		}
	}
	*ls = out
}

func (s *Subscription) decodeNode(d *decoder, n *yaml.Node, path string) {
	s.pos = d.pos(n)
	if n.Kind == yaml.ScalarNode {
		s.Channel, _ = d.scalar(n, path, "a channel name")
		return
	}
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: want a channel name or {channel, filter}, got %s", path, kindName(n))
		return
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		name, ok := d.key(k, path, seen)
		if !ok {
			continue
		}
		val, ok := d.resolve(n.Content[i+1])
		if !ok {
			continue
		}
		p := join(path, name)
		d.src.pos[p] = d.pos(val)
		switch name {
		case "channel":
			s.Channel, _ = d.scalar(val, p, "a channel name")
		case "filter":
			s.Filter = d.filter(val, p)
		default:
			d.errorf(k, "unknown key %q in %s%s", name, path, suggest(name, []string{"channel", "filter"}))
		}
	}
}

// filter decodes {key: value | [values]}.
func (d *decoder) filter(n *yaml.Node, path string) []Filter {
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "%s: want a mapping of attribute to values, got %s", path, kindName(n))
		return nil
	}
	var out []Filter
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		name, ok := d.key(n.Content[i], path, seen)
		if !ok {
			continue
		}
		p := join(path, name)
		val, ok := d.resolve(n.Content[i+1])
		if !ok {
			continue
		}
		d.src.pos[p] = d.pos(val)
		f := Filter{Key: name}
		if val.Kind == yaml.SequenceNode {
			var vals []string
			d.value(val, reflect.ValueOf(&vals).Elem(), p)
			f.Values = vals
		} else if s, ok := d.scalar(val, p, "a value or a list of values"); ok {
			f.Values = []string{s}
		}
		out = append(out, f)
	}
	return out
}

// MetricRows is a widget's metrics array.
type MetricRows []MetricRow

func (rows *MetricRows) decodeNode(d *decoder, n *yaml.Node, path string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.errorf(n, "%s: want a list of metric rows, got %s", path, kindName(n))
		return
	}
	var prev []string
	out := make(MetricRows, 0, len(n.Content))
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		item, ok := d.resolve(item)
		if !ok {
			continue
		}
		d.src.pos[p] = d.pos(item)
		row, cur, ok := d.metricRow(item, p, prev)
		if ok {
			out = append(out, row)
			prev = cur
		}
	}
	*rows = out
}

// metricRow decodes [Namespace, MetricName, DimName, DimValue, ..., {opts}]
// where "." repeats the element of the previous row, or [{expression...}].
func (d *decoder) metricRow(n *yaml.Node, path string, prev []string) (MetricRow, []string, bool) {
	row := MetricRow{pos: d.pos(n)}
	if n.Kind != yaml.SequenceNode || len(n.Content) == 0 {
		d.errorf(n, "%s: want a row like [Namespace, MetricName, DimName, DimValue] or [{expression: ...}], got %s", path, kindName(n))
		return row, nil, false
	}
	items := n.Content
	last, ok := d.resolve(items[len(items)-1])
	if !ok {
		return row, nil, false
	}
	var expr *exprRow
	if last.Kind == yaml.MappingNode {
		if len(items) == 1 {
			expr = &exprRow{}
			d.value(last, reflect.ValueOf(expr).Elem(), path+"[0]")
			row.Expression = expr.Expression
			row.Options = RowOptions{ID: expr.ID, Label: expr.Label, Stat: expr.Stat, Period: expr.Period, Color: expr.Color, YAxis: expr.YAxis, Visible: expr.Visible}
			if row.Expression == "" {
				d.errorf(last, "%s: an expression row needs expression", path)
				return row, nil, false
			}
			return row, prev, true
		}
		d.value(last, reflect.ValueOf(&row.Options).Elem(), fmt.Sprintf("%s[%d]", path, len(items)-1))
		items = items[:len(items)-1]
	}
	cur := make([]string, len(items))
	for i, it := range items {
		p := fmt.Sprintf("%s[%d]", path, i)
		s, ok := d.scalar(it, p, "a string")
		if !ok {
			return row, nil, false
		}
		if s == "." {
			if i >= len(prev) {
				d.errorf(it, "%s: \".\" repeats the previous row, which has no element %d", p, i)
				return row, nil, false
			}
			s = prev[i]
		}
		cur[i] = s
	}
	if len(cur) < 2 || len(cur)%2 != 0 {
		d.errorf(n, "%s: want [Namespace, MetricName] followed by dimension name/value pairs", path)
		return row, nil, false
	}
	row.Namespace, row.MetricName = cur[0], cur[1]
	for i := 2; i+1 < len(cur); i += 2 {
		row.Dimensions = append(row.Dimensions, Label{Name: cur[i], Value: cur[i+1]})
	}
	return row, cur, true
}

// exprRow is the mapping of a math row.
type exprRow struct {
	Expression string   `yaml:"expression"`
	ID         string   `yaml:"id"`
	Label      string   `yaml:"label"`
	Stat       string   `yaml:"stat"`
	Period     Duration `yaml:"period"`
	Color      string   `yaml:"color"`
	YAxis      string   `yaml:"yAxis"`
	Visible    *bool    `yaml:"visible"`
}
