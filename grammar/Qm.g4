// The Qianmian rules language (LANGUAGE.md, SEMANTICS.md A1-A47, B1-B10).
// The parser is driven one top-level item at a time (see parse/parse.cc), so
// a mistake in one rule never hides the next one.
grammar Qm;

item
  : (enumDecl | eventDecl | profileDecl | tagDecl | importDecl | ruleDecl) EOF
  ;

enumDecl    : ENUM name LBRACE members RBRACE ;
members     : name (COMMA? name)* COMMA? ;
eventDecl   : EVENT name (LBRACE fieldList? RBRACE)? ;
profileDecl : PROFILE LBRACE fieldList? RBRACE ;
fieldList   : fieldDecl (COMMA? fieldDecl)* COMMA? ;
fieldDecl   : name COLON typeRef (EQ literal)? ;
typeRef     : name | ENUM LBRACE members RBRACE ;
tagDecl     : TAG name STRING ;
importDecl  : IMPORT STRING ;

ruleDecl    : (RULE name COLON)? WHEN trigger (AND expr)? THEN action (COMMA action)* ;

trigger
  : ANY                                 # anyTrigger
  | TAGGED name                         # taggedTrigger
  | UNTAGGED name                       # untaggedTrigger
  | name BECOMES literal                # becomesTrigger
  | NO (name | ANY) FOR DURATION        # quietTrigger
  | name                                # eventTrigger
  ;

expr    : andExpr (OR andExpr)* ;
andExpr : unary (AND unary)* ;
unary   : NOT unary | primary ;

primary
  : LPAREN expr RPAREN                      # parenExpr
  | HAS name                                # hasExpr
  | operand predicateTail?                  # predicateExpr
  ;

// Kept apart from `operand` so the parser decides with one token of lookahead.
predicateTail
  : NOT IN LPAREN literal (COMMA literal)* RPAREN  # notInTail
  | IN LPAREN literal (COMMA literal)* RPAREN      # inTail
  | CONTAINS literal                               # containsTail
  | cmpOp operand                                  # compareTail
  ;

cmpOp   : EQ | NE | LT | LE | GT | GE ;

operand
  : aggregate
  | since
  | ref
  | constant
  ;

// `where` is not a keyword (B1): it is an ordinary name everywhere but here.
whereKw : {_input->LT(1)->getText() == "where"}? IDENT ;

aggregate
  : COUNT LPAREN (name | ANY) (whereKw expr)? (WITHIN DURATION)? RPAREN                        # countAgg
  | aggFunc=(SUM | MIN | MAX | AVG) LPAREN (name | ANY) DOT name (whereKw expr)? (WITHIN DURATION)? RPAREN  # valueAgg
  ;

since   : SINCE LPAREN (ANY | name | PROFILE DOT name) RPAREN ;

// A field reference or a bare word; the checker decides which (A13).
ref     : (PROFILE | name) DOT name | name ;

constant : STRING | NUMBER | DURATION | TRUE | FALSE ;
literal  : constant | name ;

action
  : AFTER DURATION simpleAction (UNLESS (name | ANY))?   # delayedAction
  | simpleAction                                         # immediateAction
  ;

simpleAction
  : SET ref (ref | constant)                   # setAction
  | ADD ref (ref | constant)                   # addAction
  | TAG name                                  # tagAction
  | UNTAG name                                # untagAction
  | kind=(PUSH | INVITE) target (EVERY DURATION)?  # pushAction
  | NOTIFY target STRING                      # notifyAction
  ;

target  : name | STRING ;
name    : IDENT ;

// ---- Lexer (A1-A6) ----
ENUM: 'enum'; EVENT: 'event'; PROFILE: 'profile'; TAG: 'tag'; IMPORT: 'import';
RULE: 'rule'; WHEN: 'when'; THEN: 'then'; AND: 'and'; OR: 'or'; NOT: 'not';
ANY: 'any'; TAGGED: 'tagged'; UNTAGGED: 'untagged'; BECOMES: 'becomes'; NO: 'no';
FOR: 'for'; HAS: 'has'; IN: 'in'; CONTAINS: 'contains'; COUNT: 'count'; SUM: 'sum';
MIN: 'min'; MAX: 'max'; AVG: 'avg'; SINCE: 'since'; WITHIN: 'within'; SET: 'set';
ADD: 'add'; UNTAG: 'untag'; PUSH: 'push'; INVITE: 'invite'; NOTIFY: 'notify';
AFTER: 'after'; UNLESS: 'unless'; EVERY: 'every'; TRUE: 'true'; FALSE: 'false';

// Full-width forms lex as their ASCII twins so the parse goes on; the parse
// stage reports each one with a hint (E0003).
LBRACE: '{'; RBRACE: '}';
LPAREN: '(' | '\uFF08'; RPAREN: ')' | '\uFF09';
COMMA: ',' | '\uFF0C'; COLON: ':' | '\uFF1A'; EQ: '=' | '\uFF1D';
NE: '!='; LE: '<='; GE: '>='; LT: '<'; GT: '>'; DOT: '.';

DURATION: [0-9]+ [dhms];
NUMBER: '-'? [0-9]+ ('.' [0-9]+)?;
IDENT: ID_CHAR+;
STRING
  : '"' ('\\' ~[\r\n] | ~["\\\r\n])* '"'
  | '\u201C' ~[\u201D\r\n]* '\u201D'
  ;
UNTERMINATED_STRING: '"' ('\\' ~[\r\n] | ~["\\\r\n])*;

fragment ID_CHAR: [_\p{L}\p{M}\p{N}];

COMMENT: ('#' | '//') ~[\r\n]* -> skip;
WS: [ \t\r\n\f\u000B]+ -> skip;
IDEOGRAPHIC_SPACE: [\u3000] -> channel(HIDDEN);  // a set: 4.7.2 mangles non-ASCII literal names
BAD_CHAR: . -> channel(HIDDEN);
