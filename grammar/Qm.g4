// The Qianmian rules language (LANGUAGE.md, SEMANTICS.md A1-A47, B1-B10).
// The parser is driven one top-level item at a time (see parse/parse.cc), so
// a mistake in one rule never hides the next one.
grammar Qm;

// The parser builds no parse tree (Parser::setBuildParseTree(false)): the
// builder reads what it needs from labels (`x=`, `xs+=`), which the parser
// fills as it goes, so no node is made per token and no accessor scans
// children (a dynamic_cast each).
item
  : (enumD=enumDecl | eventD=eventDecl | profileD=profileDecl | tagD=tagDecl | importD=importDecl | zoneD=zoneDecl
     | capD=capDecl | quietD=quietDecl | identityD=identityDecl | segmentD=segmentDecl | renamedD=renamedDecl
     | ruleD=ruleDecl) EOF
  ;

enumDecl    : ENUM enumName=name LBRACE memberList=members RBRACE ;
members     : names+=name (COMMA? names+=name)* COMMA? ;
eventDecl   : EVENT eventName=name (LBRACE fields=fieldList? RBRACE)? ;
profileDecl : kw=PROFILE LBRACE fields=fieldList? RBRACE ;
fieldList   : decls+=fieldDecl (COMMA? decls+=fieldDecl)* COMMA? ;
fieldDecl   : fieldName=name COLON type=typeRef (EQ defaultValue=literal)? (mergeWord=mergeKw policy=mergePolicy)? ;
// D12: `points: int = 0 merge sum`; the builder checks the policy word (a
// keyword such as `sum` or `add` too, for a clear message), the checker that
// it fits the field.
mergeKw     : {_input->LT(1)->getText() == "merge" && _input->LA(3) != QmParser::COLON &&
               (_input->LA(2) == QmParser::IDENT || _input->LA(2) == QmParser::SUM || _input->LA(2) == QmParser::MAX ||
                _input->LA(2) == QmParser::MIN || _input->LA(2) == QmParser::ADD || _input->LA(2) == QmParser::SET)}? IDENT ;
mergePolicy : SUM | MAX | MIN | ADD | SET | name ;
typeRef     : typeName=name | ENUM LBRACE inlineMembers=members RBRACE ;
tagDecl     : TAG tag=tagName description=STRING ;
// D15: a tag's name may be quoted wherever a tag is named (E23: only tags).
tagName     : word=name | quoted=STRING ;
importDecl  : IMPORT path=STRING ;

// v0.2 words are contextual, never reserved (SEMANTICS D, E1): each is an
// IDENT recognized only where its form is.
zoneDecl    : zoneKw (offset=ZONE_OFFSET | zoneName=name) ;   // D1: the builder accepts only `Z` as a name
zoneKw      : {_input->LT(1)->getText() == "zone"}? IDENT ;

// D4: `cap push 2 per 7d [for (A, "B")]`; the builder checks the count.
capDecl     : capKw kind=(PUSH | INVITE) count=NUMBER perKw per=DURATION (FOR LPAREN targets+=target (COMMA targets+=target)* RPAREN)? ;
capKw       : {_input->LT(1)->getText() == "cap"}? IDENT ;
perKw       : {_input->LT(1)->getText() == "per"}? IDENT ;

// D5: `quiet push 22:00-08:00 [defer|drop]`; the builder checks the times and the word.
quietDecl   : quietKw kind=(PUSH | INVITE | NOTIFY) range=CLOCK_RANGE policy=name? ;
quietKw     : {_input->LT(1)->getText() == "quiet"}? IDENT ;

// D11: `identity phone, unionid`: text fields that name one person across channels.
identityDecl : identityKw keys+=name (COMMA keys+=name)* ;
identityKw  : {_input->LT(1)->getText() == "identity"}? IDENT ;

// D13: `segment NAME "description" top|bottom P% by X every D [at HH:MM]`; the
// builder checks the rank word, the share and the time, the checker X.
segmentDecl : segmentKw tag=tagName description=STRING rank=name percent=NUMBER percentSign=PERCENT byKw by=operand EVERY every=DURATION (atKw at=CLOCK_TIME)? ;
segmentKw   : {_input->LT(1)->getText() == "segment"}? IDENT ;
byKw        : {_input->LT(1)->getText() == "by"}? IDENT ;
atKw        : {_input->LT(1)->getText() == "at"}? IDENT ;

// D14: `renamed tag OLD -> NEW`, `renamed field …`, `renamed member E.OLD -> E.NEW`,
// `renamed target …`; the builder checks the kind and each side's form.
renamedDecl : renamedKw (tagWord=TAG | kindName=name) from=renamedName ARROW to=renamedName ;
renamedKw   : {_input->LT(1)->getText() == "renamed"}? IDENT ;
renamedName : (enumName=name dot=DOT)? (plain=name | quoted=STRING) ;

ruleDecl    : (RULE ruleName=name COLON)? whenWord=WHEN on=trigger (AND condition=expr)? THEN actions+=action (COMMA actions+=action)* ;

trigger
  : ANY                                 # anyTrigger
  | TAGGED tag=tagName                  # taggedTrigger
  | UNTAGGED tag=tagName                # untaggedTrigger
  | field=name BECOMES value=literal    # becomesTrigger
  | NO (event=name | ANY) FOR quiet=DURATION  # quietTrigger
  | event=name                          # eventTrigger
  ;

expr    : operands+=andExpr (OR operands+=andExpr)* ;
andExpr : operands+=unary (AND operands+=unary)* ;
unary   : negation=NOT inner=unary | atom=primary ;

primary
  : LPAREN inner=expr RPAREN                # parenExpr
  | HAS tag=tagName                         # hasExpr
  | lhs=operand tail=predicateTail?         # predicateExpr
  ;

// Kept apart from `operand` so the parser decides with one token of lookahead.
predicateTail
  : NOT IN LPAREN items+=literal (COMMA items+=literal)* RPAREN  # notInTail
  | IN LPAREN items+=literal (COMMA items+=literal)* RPAREN      # inTail
  | CONTAINS needle=literal                                      # containsTail
  | op=cmpOp rhs=operand                                         # compareTail
  ;

cmpOp   : op=(EQ | NE | LT | LE | GT | GE) ;

operand
  : agg=aggregate
  | sinceCall=since
  | clockCall=clock
  | field=ref
  | value=constant
  ;

// `where` is not a keyword (B1): it is an ordinary name everywhere but here.
whereKw : {_input->LT(1)->getText() == "where"}? IDENT ;

aggregate
  : COUNT LPAREN distinctKw (event=name | any=ANY) DOT field=name (whereWord=whereKw filter=expr)? within=window? RPAREN   # distinctAgg
  | COUNT LPAREN (event=name | any=ANY) (whereWord=whereKw filter=expr)? within=window? RPAREN                        # countAgg
  | aggFunc=(SUM | MIN | MAX | AVG) LPAREN (event=name | any=ANY) DOT field=name (whereWord=whereKw filter=expr)? within=window? RPAREN  # valueAgg
  ;

// D10, E1: `distinct` only when followed by `NAME .`, so `count(distinct)`
// still counts an event type called `distinct`.
distinctKw
  : {_input->LT(1)->getText() == "distinct" && (_input->LA(2) == QmParser::IDENT || _input->LA(2) == QmParser::ANY) &&
     _input->LA(3) == QmParser::DOT}? IDENT
  ;

// D2: `this` is a word only after `within`; the builder checks the unit.
window  : WITHIN (span=DURATION | thisKw unit=name) ;
thisKw  : {_input->LT(1)->getText() == "this"}? IDENT ;

// D1, E1: a clock function is its name directly followed by `(`.
clock   : func=clockKw LPAREN arg=ref RPAREN ;
clockKw
  : {(_input->LT(1)->getText() == "hour" || _input->LT(1)->getText() == "weekday" ||
      _input->LT(1)->getText() == "day" || _input->LT(1)->getText() == "month") &&
     _input->LA(2) == QmParser::LPAREN}? word=IDENT
  ;

since   : SINCE LPAREN (ANY | subject=name | profile=PROFILE DOT subject=name) RPAREN ;

// A field reference or a bare word; the checker decides which (A13).
ref     : (qualifiedByProfile=PROFILE | names+=name) DOT names+=name | names+=name ;

constant : token=(STRING | NUMBER | DURATION | TRUE | FALSE) ;
literal  : value=constant | word=name ;

action
  : AFTER delay=DURATION body=simpleAction (UNLESS (unlessEvent=name | unlessAny=ANY) (whereWord=whereKw unlessWhere=expr)?)?   # delayedAction  // D7: `unless E where`
  | body=simpleAction                                    # immediateAction
  ;

simpleAction
  : SET field=ref (fromRef=ref | fromConstant=constant)   # setAction
  | ADD field=ref (fromRef=ref | fromConstant=constant)   # addAction
  | TAG tag=tagName                           # tagAction
  | UNTAG tag=tagName                         # untagAction
  | kind=(PUSH | INVITE) to=target (EVERY every=DURATION)?  # pushAction
  | NOTIFY to=target message=STRING           # notifyAction
  ;

target  : word=name | quoted=STRING ;
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
ARROW: '->';  // D14, E1
PERCENT: '%';  // D13, E1

// A3, D3: parts in strictly decreasing unit order, so `12h1d` lexes as a
// longer IDENT and stays a name (E3); `-` before a digit negates (E3).
DURATION: '-'? (DAYS HOURS? MINUTES? SECONDS? | HOURS MINUTES? SECONDS? | MINUTES SECONDS? | SECONDS);
fragment DAYS: [0-9]+ 'd';
fragment HOURS: [0-9]+ 'h';
fragment MINUTES: [0-9]+ 'm';
fragment SECONDS: [0-9]+ 's';
NUMBER: '-'? [0-9]+ ('.' [0-9]+)?;
ZONE_OFFSET: [+\-] [0-9] [0-9] ':' [0-9] [0-9];  // D1, E1: `+08:00`, `-05:30`
CLOCK_RANGE: [0-9] [0-9] ':' [0-9] [0-9] '-' [0-9] [0-9] ':' [0-9] [0-9];  // D5, E1: `22:00-08:00`, no spaces
CLOCK_TIME: [0-9] [0-9] ':' [0-9] [0-9];  // D13, E1: `at 02:00`
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
