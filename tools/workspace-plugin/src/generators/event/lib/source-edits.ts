import type { Tree } from '@nx/devkit';
import * as ts from 'typescript';

/**
 * Small, checked edits of TypeScript sources, found with the compiler's own
 * parser (Prettier formats them afterwards). Each throws, naming the file,
 * when the source does not have the expected shape: nothing is guessed.
 */
export class SourceFile {
  private text: string;

  constructor(
    private readonly tree: Tree,
    readonly path: string,
  ) {
    const text = tree.read(path, 'utf-8');
    if (text === null) throw new Error(`${path} not found.`);
    this.text = text;
  }

  /** `import { name } from 'module'`, merged into an existing value import of that module. */
  addNamedImport(name: string, module: string): this {
    const source = this.parse();
    const imports = source.statements.filter(ts.isImportDeclaration);
    const existing = imports.find(
      (declaration) =>
        (declaration.moduleSpecifier as ts.StringLiteral).text === module &&
        !declaration.importClause?.isTypeOnly &&
        declaration.importClause?.namedBindings &&
        ts.isNamedImports(declaration.importClause.namedBindings),
    );
    const bindings = existing?.importClause?.namedBindings as ts.NamedImports | undefined;
    if (bindings) {
      if (bindings.elements.some((element) => element.name.text === name)) return this;
      return this.insert(bindings.elements[bindings.elements.length - 1].end, `, ${name}`);
    }
    const at = imports.length > 0 ? imports[imports.length - 1].end : 0;
    return this.insert(at, `${at > 0 ? '\n' : ''}import { ${name} } from '${module}';\n`);
  }

  /** Appends `element` to the array `property` of the object passed to `@decorator(...)`, creating it if absent. */
  addToDecoratorArray(decorator: string, property: string, element: string): this {
    const call = this.find(
      (node): node is ts.CallExpression =>
        ts.isCallExpression(node) &&
        ts.isDecorator(node.parent) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === decorator,
    );
    const options = call?.arguments[0];
    if (!options || !ts.isObjectLiteralExpression(options)) {
      throw new Error(`${this.path}: no @${decorator}({ ... }) found.`);
    }
    const assignment = options.properties.find(
      (p): p is ts.PropertyAssignment =>
        ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === property,
    );
    if (!assignment) {
      return this.insert(options.getStart() + 1, `\n  ${property}: [${element}],`);
    }
    if (!ts.isArrayLiteralExpression(assignment.initializer)) {
      throw new Error(`${this.path}: @${decorator}'s ${property} is not an array literal.`);
    }
    return this.appendTo(assignment.initializer, element);
  }

  /** Appends `element` to the array literal assigned to the exported constant whose name matches. */
  addToArrayConstant(name: RegExp, element: string): this {
    const declaration = this.find(
      (node): node is ts.VariableDeclaration =>
        ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && name.test(node.name.text),
    );
    const array = declaration?.initializer;
    if (!array || !ts.isArrayLiteralExpression(array)) {
      throw new Error(`${this.path}: no array constant named ${name} found.`);
    }
    return this.appendTo(array, element);
  }

  /** Adds `key: value` to the object literal of a constant (`as const` allowed), refusing a key it has. */
  addToObjectConstant(name: string, key: string, value: string): this {
    const declaration = this.find(
      (node): node is ts.VariableDeclaration =>
        ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.name.text === name,
    );
    let object = declaration?.initializer;
    if (object && ts.isAsExpression(object)) object = object.expression;
    if (!object || !ts.isObjectLiteralExpression(object)) {
      throw new Error(`${this.path}: no object constant ${name} found.`);
    }
    const keys = object.properties.map((p) => p.name?.getText());
    if (keys.includes(key)) throw new Error(`${this.path}: ${name} has a ${key} already.`);
    return this.appendAfter(object.properties, object.getStart() + 1, `${key}: ${value}`);
  }

  contains(text: string): boolean {
    return this.text.includes(text);
  }

  write(): void {
    this.tree.write(this.path, this.text);
  }

  private appendTo(array: ts.ArrayLiteralExpression, element: string): this {
    if (array.elements.some((e) => e.getText() === element)) return this;
    return this.appendAfter(array.elements, array.getStart() + 1, element);
  }

  /** After the last item of a list (and its trailing comma, if any), or at `start` when it is empty. */
  private appendAfter(items: ts.NodeArray<ts.Node>, start: number, item: string): this {
    const last = items[items.length - 1];
    if (!last) return this.insert(start, `\n  ${item},\n`);
    let at = last.end;
    while (/\s/.test(this.text[at] ?? '')) at++;
    return this.text[at] === ','
      ? this.insert(at + 1, `\n  ${item},`)
      : this.insert(last.end, `,\n  ${item}`);
  }

  private insert(at: number, text: string): this {
    this.text = `${this.text.slice(0, at)}${text}${this.text.slice(at)}`;
    return this;
  }

  private parse(): ts.SourceFile {
    return ts.createSourceFile(this.path, this.text, ts.ScriptTarget.Latest, true);
  }

  private find<T extends ts.Node>(match: (node: ts.Node) => node is T): T | undefined {
    let found: T | undefined;
    const visit = (node: ts.Node): void => {
      if (found) return;
      if (match(node)) found = node;
      else ts.forEachChild(node, visit);
    };
    visit(this.parse());
    return found;
  }
}
