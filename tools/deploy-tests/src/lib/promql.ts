import { parser } from '@prometheus-io/lezer-promql';

/** What a PromQL expression refers to, as Prometheus's own grammar reads it. */
export interface PromqlExpression {
  /** The parts that failed to parse, with their offset; empty when the expression is valid. */
  errors: string[];
  /** Every series name selected (`up`, `acme_auth_denials_total`, `..._bucket`). */
  metrics: string[];
  /** Every label named, in a matcher, a `by`/`without` or an `on`/`ignoring`. */
  labels: string[];
  /** The label matchers: `{ label, op, value }`, the value unquoted. */
  matchers: { label: string; op: string; value: string }[];
  /**
   * The labels of the result when the outermost aggregation says them (`sum by (a, b)`),
   * `[]` when it keeps none (`sum(...)`), undefined when there is no aggregation or it uses
   * `without` (then any label of the series may remain).
   */
  resultLabels?: string[];
}

/**
 * Parses an expression with `@prometheus-io/lezer-promql`, the grammar of Prometheus's own
 * query editor, and lists what it refers to.
 *
 * @example
 * parsePromql('sum by (app) (rate(acme_jwks_refreshes_total[5m]))').metrics
 * // ['acme_jwks_refreshes_total']
 */
export function parsePromql(expression: string): PromqlExpression {
  const tree = parser.parse(expression);
  const text = (node: { from: number; to: number }) => expression.slice(node.from, node.to);
  const result: PromqlExpression = { errors: [], metrics: [], labels: [], matchers: [] };
  let outermost: typeof tree.topNode | undefined;
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) {
        result.errors.push(`at ${node.from}: "${expression.slice(node.from, node.from + 20)}"`);
      }
      if (node.name === 'VectorSelector') {
        const name = node.node.getChild('Identifier');
        if (name) result.metrics.push(text(name));
      }
      if (node.name === 'LabelName') result.labels.push(text(node));
      if (node.name === 'UnquotedLabelMatcher') {
        const label = node.node.getChild('LabelName');
        const op = node.node.getChild('MatchOp');
        const value = node.node.getChild('StringLiteral');
        if (label && op && value) {
          result.matchers.push({
            label: text(label),
            op: text(op),
            value: JSON.parse(text(value).replace(/^'|'$/g, '"')) as string,
          });
        }
      }
      if (node.name === 'AggregateExpr' && !outermost) outermost = node.node;
    },
  });
  if (outermost) {
    const modifier = outermost.getChild('AggregateModifier');
    if (!modifier) {
      result.resultLabels = [];
    } else if (modifier.getChild('By')) {
      result.resultLabels = (
        modifier.getChild('GroupingLabels')?.getChildren('LabelName') ?? []
      ).map(text);
    }
  }
  return result;
}
