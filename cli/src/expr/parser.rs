//! The parser: tokens to an [`Expr`] tree.
//!
//! The grammar is Python's arithmetic:
//!
//! ```text
//! sum     := term (('+' | '-') term)*
//! term    := factor (('*' | '/') factor)*
//! factor  := ('+' | '-') factor | power
//! power   := primary ['**' factor]
//! primary := NUMBER | name | name '(' args ')' | '(' sum ')'
//! name    := [('torch' | 'math' | 'numpy' | 'np') '.'] IDENT
//! ```
//!
//! It is parsed without recursion, by operator precedence with explicit
//! stacks of operands and of pending operators and open parentheses, so
//! the parser's own stack use is constant whatever the input. The tree's
//! depth is checked against [`MAX_DEPTH`] as each node is built, so that
//! later recursive passes over the tree (derived `Drop`, `Clone`, `Debug`,
//! evaluation) cannot exhaust the stack either.

use super::ast::{BinOp, Constant, Expr, ExprKind, Func, UnaryOp};
use super::error::{shorten, shorten_tail, ErrorKind, ParseError};
use super::lexer::{tokenize, Token, TokenKind};
use super::span::Span;

/// The depth limit: a parsed tree is at most this many nodes deep, counting
/// the leaf. Each unary operator, binary operator and call adds a level on
/// top of its operands, so a chain of 256 or more operators, like
/// `1+1+...+1` or `--...-x`, is rejected. Parentheses add no level and may
/// nest without limit.
pub const MAX_DEPTH: usize = 256;

/// Module prefixes accepted before a function or constant name, so that
/// `torch.sin(x)`, `math.exp(x)`, `np.sqrt(x)` and `math.pi` paste in.
pub const MODULE_PREFIXES: [&str; 4] = ["torch", "math", "numpy", "np"];

/// Parses `source` into an expression tree.
///
/// Never panics and uses a fixed amount of stack for any input; see
/// [`ErrorKind`] for what can go wrong and [`ParseError::render`] for
/// showing it. When the input has several problems, the one nearest its
/// start is reported.
///
/// ```
/// use tensorgrad_cli::expr::parse;
/// let e = parse("6*x**2 + 2*x + 4").unwrap();
/// assert_eq!(e.variables(), ["x"]);
/// assert_eq!(e.to_string(), "6*x**2 + 2*x + 4");
/// ```
pub fn parse(source: &str) -> Result<Expr, ParseError> {
    let mut parser = Parser {
        src: source,
        tokens: tokenize(source),
        pos: 0,
        operands: Vec::new(),
        pending: Vec::new(),
    };
    if parser.peek().kind == TokenKind::End {
        return Err(ParseError::new(ErrorKind::Empty, Span::new(0, 0)));
    }
    parser.run()
}

impl std::str::FromStr for Expr {
    type Err = ParseError;

    /// Same as [`parse`].
    fn from_str(s: &str) -> Result<Expr, ParseError> {
        parse(s)
    }
}

/// A finished subtree with what its parent needs to know: its extent
/// including any parentheses around it, and its depth.
struct Parsed {
    expr: Expr,
    extent: Span,
    depth: usize,
}

impl Parsed {
    fn leaf(kind: ExprKind, span: Span) -> Parsed {
        Parsed {
            expr: Expr::new(kind, span),
            extent: span,
            depth: 1,
        }
    }
}

/// An operator waiting for its operands, or an open parenthesis.
enum Pending {
    /// A prefix operator; its operand is still being parsed.
    Unary { op: UnaryOp, at: Span },
    /// A binary operator whose left operand is on the operand stack.
    Binary { op: BinOp, at: Span },
    /// An open `(` of a group.
    Group { open: Span },
    /// An open call: `func(`, its name starting at `start`. Only the first
    /// argument is kept; `count` counts all finished ones.
    Call {
        func: Func,
        start: Span,
        open: Span,
        first: Option<Parsed>,
        count: usize,
    },
}

/// How tightly a binary operator binds; unary operators bind at
/// [`UNARY_POWER`], between `*` and `**`.
fn binding_power(op: BinOp) -> u8 {
    match op {
        BinOp::Add | BinOp::Sub => 1,
        BinOp::Mul | BinOp::Div => 2,
        BinOp::Pow => 4,
    }
}

const UNARY_POWER: u8 = 3;

type PResult<T> = Result<T, ParseError>;

struct Parser<'a> {
    src: &'a str,
    /// Ends with one `End` or `Error` token, which `bump` never moves past.
    tokens: Vec<Token>,
    pos: usize,
    /// Finished subtrees not yet attached to a parent.
    operands: Vec<Parsed>,
    /// Operators and open parentheses, innermost last.
    pending: Vec<Pending>,
}

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.tokens[self.pos.min(self.tokens.len() - 1)]
    }

    fn peek_kind_at(&self, offset: usize) -> Option<&TokenKind> {
        self.tokens.get(self.pos + offset).map(|t| &t.kind)
    }

    fn previous(&self) -> Option<&Token> {
        self.pos.checked_sub(1).map(|i| &self.tokens[i])
    }

    fn bump(&mut self) -> Token {
        let token = self.peek().clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        token
    }

    fn text(&self, token: &Token) -> &str {
        &self.src[token.bytes.clone()]
    }

    fn pop_operand(&mut self) -> Parsed {
        self.operands
            .pop()
            .expect("parser invariant: an operator always has its operands")
    }

    /// Alternates between reading one operand (with its prefix operators
    /// and opening parentheses) and one operator (with closing parentheses
    /// and commas) until the input ends.
    fn run(&mut self) -> PResult<Expr> {
        loop {
            self.operand()?;
            loop {
                let op = match self.peek().kind {
                    TokenKind::Plus => BinOp::Add,
                    TokenKind::Minus => BinOp::Sub,
                    TokenKind::Star => BinOp::Mul,
                    TokenKind::Slash => BinOp::Div,
                    TokenKind::StarStar => BinOp::Pow,
                    TokenKind::RParen => {
                        self.close_paren()?;
                        continue;
                    }
                    TokenKind::Comma => {
                        self.comma()?;
                        break;
                    }
                    TokenKind::Num(_) | TokenKind::Ident | TokenKind::LParen => {
                        return Err(self.implicit_multiplication());
                    }
                    TokenKind::End => return self.finish(),
                    _ => return Err(self.unexpected(&self.operator_expectation())),
                };
                let at = self.bump().span;
                self.push_binary(op, at)?;
                break;
            }
        }
    }

    /// Reads prefix operators and `(`s up to and including one operand
    /// (a number, variable, constant, or a call closed right away).
    fn operand(&mut self) -> PResult<()> {
        loop {
            match self.peek().kind {
                TokenKind::Plus | TokenKind::Minus => {
                    let token = self.bump();
                    let op = if token.kind == TokenKind::Minus {
                        UnaryOp::Neg
                    } else {
                        UnaryOp::Pos
                    };
                    self.pending.push(Pending::Unary { op, at: token.span });
                }
                TokenKind::Num(v) => {
                    let span = self.bump().span;
                    self.operands.push(Parsed::leaf(ExprKind::Num(v), span));
                    return Ok(());
                }
                TokenKind::Ident => {
                    if self.name()? {
                        return Ok(());
                    }
                }
                TokenKind::LParen => {
                    let open = self.bump().span;
                    self.pending.push(Pending::Group { open });
                }
                // `f()` and `f(x,)`: the call closes with no new argument.
                TokenKind::RParen
                    if matches!(self.pending.last(), Some(Pending::Call { .. }))
                        && matches!(
                            self.previous().map(|t| &t.kind),
                            Some(TokenKind::LParen | TokenKind::Comma)
                        ) =>
                {
                    let close = self.bump().span;
                    return self.close_call(close);
                }
                _ => return Err(self.unexpected(&self.operand_expectation())),
            }
        }
    }

    /// A variable, constant or the start of a call, with an optional module
    /// prefix. Returns whether an operand was pushed (`false`: a call was
    /// opened and its first argument comes next).
    fn name(&mut self) -> PResult<bool> {
        let first = self.bump();
        let mut name_token = first.clone();
        let mut prefix = None;
        if self.peek().kind == TokenKind::Dot {
            let module = self.text(&first).to_string();
            if !MODULE_PREFIXES.contains(&module.as_str()) {
                return Err(self.unexpected(
                    "an operator ('.' is only understood after torch, math, numpy or np)",
                ));
            }
            self.bump();
            if self.peek().kind != TokenKind::Ident {
                return Err(
                    self.unexpected(&format!("a function or constant name after '{module}.'"))
                );
            }
            name_token = self.bump();
            prefix = Some(module);
        }
        let name = self.text(&name_token).to_string();
        let start = first.span;

        if self.peek().kind == TokenKind::LParen {
            let Some(func) = Func::from_name(&name) else {
                let suggestion = closest_function(&name);
                let kind = ErrorKind::UnknownFunction { name, suggestion };
                return Err(ParseError::new(kind, name_token.span));
            };
            let open = self.bump().span;
            self.pending.push(Pending::Call {
                func,
                start,
                open,
                first: None,
                count: 0,
            });
            return Ok(false);
        }
        if let Some(func) = Func::from_name(&name) {
            return Err(self.unexpected(&format!("'(' after the function name '{func}'")));
        }
        let leaf = if let Some(c) = Constant::from_name(&name) {
            Parsed::leaf(ExprKind::Const(c), start.to(name_token.span))
        } else if let Some(module) = prefix {
            let known = Func::ALL.map(Func::name).join(", ");
            return Err(ParseError::new(
                ErrorKind::UnexpectedToken {
                    found: format!("name '{}'", shorten(&name)),
                    expected: format!("a function ({known}) or constant (pi, e) after '{module}.'"),
                },
                name_token.span,
            ));
        } else {
            Parsed::leaf(ExprKind::Var(name), name_token.span)
        };
        self.operands.push(leaf);
        Ok(true)
    }

    /// Pushes binary operator `op`, first applying the pending operators
    /// that bind at least as tightly (`**` is right-associative, the others
    /// left-associative; a unary minus yields to a `**` on its right).
    fn push_binary(&mut self, op: BinOp, at: Span) -> PResult<()> {
        let power = binding_power(op);
        loop {
            let reduce = match self.pending.last() {
                Some(Pending::Unary { .. }) => UNARY_POWER > power,
                Some(Pending::Binary { op: top, .. }) => {
                    let top = binding_power(*top);
                    top > power || (top == power && op != BinOp::Pow)
                }
                _ => false,
            };
            if !reduce {
                break;
            }
            self.reduce_one()?;
        }
        self.pending.push(Pending::Binary { op, at });
        Ok(())
    }

    /// Applies the innermost pending operator to its operands.
    fn reduce_one(&mut self) -> PResult<()> {
        let parsed = match self.pending.pop() {
            Some(Pending::Unary { op, at }) => {
                let operand = self.pop_operand();
                let extent = at.to(operand.extent);
                let kind = ExprKind::Unary {
                    op,
                    operand: Box::new(operand.expr),
                };
                node(kind, extent, operand.depth, at)?
            }
            Some(Pending::Binary { op, at }) => {
                let rhs = self.pop_operand();
                let lhs = self.pop_operand();
                let extent = lhs.extent.to(rhs.extent);
                let child_depth = lhs.depth.max(rhs.depth);
                let kind = ExprKind::Binary {
                    op,
                    lhs: Box::new(lhs.expr),
                    rhs: Box::new(rhs.expr),
                };
                node(kind, extent, child_depth, at)?
            }
            _ => unreachable!("reduce_one is only called with an operator on top"),
        };
        self.operands.push(parsed);
        Ok(())
    }

    /// Applies pending operators down to the innermost open parenthesis.
    fn reduce_to_paren(&mut self) -> PResult<()> {
        while matches!(
            self.pending.last(),
            Some(Pending::Unary { .. } | Pending::Binary { .. })
        ) {
            self.reduce_one()?;
        }
        Ok(())
    }

    /// A `)` after an operand: closes a group or a call.
    fn close_paren(&mut self) -> PResult<()> {
        self.reduce_to_paren()?;
        match self.pending.last() {
            Some(Pending::Group { open }) => {
                let open = *open;
                self.pending.pop();
                let close = self.bump().span;
                let top = self.operands.last_mut().expect("a group holds an operand");
                top.extent = open.to(close);
                Ok(())
            }
            Some(Pending::Call { .. }) => {
                self.finish_argument();
                let close = self.bump().span;
                self.close_call(close)
            }
            _ => Err(ParseError::new(
                ErrorKind::UnmatchedCloseParen,
                self.peek().span,
            )),
        }
    }

    /// A `,` after an operand: ends a call argument.
    fn comma(&mut self) -> PResult<()> {
        self.reduce_to_paren()?;
        match self.pending.last() {
            Some(Pending::Call { .. }) => {
                self.finish_argument();
                self.bump();
                Ok(())
            }
            _ => Err(self.unexpected(&self.operator_expectation())),
        }
    }

    /// Moves the finished operand into the innermost call as an argument.
    fn finish_argument(&mut self) {
        let arg = self.pop_operand();
        if let Some(Pending::Call { first, count, .. }) = self.pending.last_mut() {
            *count += 1;
            if first.is_none() {
                *first = Some(arg);
            }
        }
    }

    /// Pops the innermost call, whose `)` is at `close`, and pushes its node.
    fn close_call(&mut self, close: Span) -> PResult<()> {
        let Some(Pending::Call {
            func,
            start,
            first,
            count,
            ..
        }) = self.pending.pop()
        else {
            unreachable!("close_call is only called with a call on top");
        };
        let extent = start.to(close);
        let arg = match first {
            Some(arg) if count == func.arity() => arg,
            _ => {
                let kind = ErrorKind::WrongArgCount { func, found: count };
                return Err(ParseError::new(kind, extent));
            }
        };
        let kind = ExprKind::Call {
            func,
            arg: Box::new(arg.expr),
        };
        let call = node(kind, extent, arg.depth, start)?;
        self.operands.push(call);
        Ok(())
    }

    /// The end of the input after an operand.
    fn finish(&mut self) -> PResult<Expr> {
        self.reduce_to_paren()?;
        match self.pending.last() {
            Some(Pending::Group { open } | Pending::Call { open, .. }) => {
                Err(ParseError::new(ErrorKind::UnclosedParen, *open))
            }
            _ => Ok(self.pop_operand().expr),
        }
    }

    /// What may follow an operand here, for messages.
    fn operator_expectation(&self) -> String {
        let innermost = self.pending.iter().rev().find_map(|p| match p {
            Pending::Group { open } => Some(format!(
                "an operator or ')' to close the '(' at column {}",
                open.column()
            )),
            Pending::Call { func, open, .. } => Some(format!(
                "an operator, ',' or ')' to close the '{func}(' at column {}",
                open.column()
            )),
            _ => None,
        });
        innermost.unwrap_or_else(|| "an operator or the end of the input".to_string())
    }

    /// What an operand was needed after: the previous token.
    fn operand_expectation(&self) -> String {
        match self.previous() {
            Some(prev) => format!("an operand after {}", self.describe(prev)),
            None => "an operand".to_string(),
        }
    }

    /// `token` as a message shows it: `'+'`, `number '2.5'`, `name 'x'`.
    fn describe(&self, token: &Token) -> String {
        let text = shorten(self.text(token));
        match token.kind {
            TokenKind::Num(_) => format!("number '{text}'"),
            TokenKind::Ident => format!("name '{text}'"),
            TokenKind::End => "end of input".to_string(),
            _ => format!("'{text}'"),
        }
    }

    /// The error for finding the current token where `expected` was needed.
    /// A lexer error at this point takes precedence: it is the first problem.
    #[cold]
    fn unexpected(&self, expected: &str) -> ParseError {
        let token = self.peek();
        let expected = expected.to_string();
        let kind = match &token.kind {
            TokenKind::Error(err) => return (**err).clone(),
            TokenKind::End => ErrorKind::UnexpectedEnd { expected },
            _ => ErrorKind::UnexpectedToken {
                found: self.describe(token),
                expected,
            },
        };
        ParseError::new(kind, token.span)
    }

    /// The error for an operand (the current token) right after another.
    /// The left operand shown is the whole factor before the missing `*`
    /// (`-2` in `-2 x`, `x**2` in `x**2 y`).
    #[cold]
    fn implicit_multiplication(&mut self) -> ParseError {
        loop {
            let factor_pending = match self.pending.last() {
                Some(Pending::Unary { .. }) => true,
                Some(Pending::Binary { op, .. }) => *op == BinOp::Pow,
                _ => false,
            };
            if !factor_pending {
                break;
            }
            if let Err(too_deep) = self.reduce_one() {
                return too_deep;
            }
        }
        let left = self.operands.last().map_or(Span::default(), |p| p.extent);
        let right = self.operand_extent();
        let kind = ErrorKind::ImplicitMultiplication {
            left: shorten_tail(left.slice(self.src)),
            right: shorten(right.slice(self.src)),
        };
        ParseError::new(kind, self.peek().span)
    }

    /// The extent of the operand starting at the current token, for
    /// messages: one token, or through the matching `)` of `(...)` or
    /// `name(...)`.
    fn operand_extent(&self) -> Span {
        let first = self.peek().span;
        let opens_group = match self.peek().kind {
            TokenKind::LParen => true,
            TokenKind::Ident => self.peek_kind_at(1) == Some(&TokenKind::LParen),
            _ => false,
        };
        if !opens_group {
            return first;
        }
        let mut depth = 0usize;
        let mut last = first;
        for token in &self.tokens[self.pos..] {
            match token.kind {
                TokenKind::LParen => depth += 1,
                TokenKind::RParen => depth = depth.saturating_sub(1),
                TokenKind::End | TokenKind::Error(_) => break,
                _ => {}
            }
            last = token.span;
            if depth == 0 && token.kind == TokenKind::RParen {
                break;
            }
        }
        first.to(last)
    }
}

/// An operator node over children at most `child_depth` deep, or
/// [`ErrorKind::TooDeep`] at `at` if it would exceed [`MAX_DEPTH`].
fn node(kind: ExprKind, extent: Span, child_depth: usize, at: Span) -> PResult<Parsed> {
    let depth = child_depth + 1;
    if depth > MAX_DEPTH {
        return Err(too_deep(at));
    }
    Ok(Parsed {
        expr: Expr::new(kind, extent),
        extent,
        depth,
    })
}

#[cold]
fn too_deep(at: Span) -> ParseError {
    ParseError::new(ErrorKind::TooDeep { limit: MAX_DEPTH }, at)
}

/// The known function closest to `name`, if it is a plausible typo.
fn closest_function(name: &str) -> Option<Func> {
    let lower = name.to_ascii_lowercase();
    if lower == "ln" {
        return Some(Func::Log);
    }
    if lower.len() > 16 {
        return None;
    }
    let max_distance = if lower.len() <= 3 { 1 } else { 2 };
    Func::ALL
        .into_iter()
        .map(|f| (edit_distance(&lower, f.name()), f))
        .filter(|&(d, _)| d <= max_distance && d < lower.len())
        .min_by_key(|&(d, _)| d)
        .map(|(_, f)| f)
}

/// Optimal string alignment distance: insertions, deletions, substitutions
/// and swaps of adjacent characters each cost 1.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_counts_swaps_once() {
        assert_eq!(edit_distance("sin", "sin"), 0);
        assert_eq!(edit_distance("sinn", "sin"), 1);
        assert_eq!(edit_distance("tahn", "tanh"), 1);
        assert_eq!(edit_distance("sqr", "sqrt"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn closest_function_suggests_only_near_names() {
        assert_eq!(closest_function("sinn"), Some(Func::Sin));
        assert_eq!(closest_function("sigmod"), Some(Func::Sigmoid));
        assert_eq!(closest_function("Tanh"), Some(Func::Tanh));
        assert_eq!(closest_function("ln"), Some(Func::Log));
        assert_eq!(closest_function("x"), None);
        assert_eq!(closest_function("f"), None);
        assert_eq!(closest_function("foo"), None);
        assert_eq!(closest_function(&"a".repeat(10_000)), None);
    }
}
