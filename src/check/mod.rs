//! Stage 2: the checker. Names, types, claim fields, codes, dates, versions,
//! inheritance and data tables; every problem, not the first.
//!
//! `check` takes a [`Workspace`] of parsed files and returns its diagnostics
//! and, per policy, the resolved [`Namespace`] the compiler builds from.

mod expr;
mod load;
mod rules;
pub mod schema;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use load::{FileSource, LoadError, LoadedFile, Workspace};

use crate::codeset::{self, Resolved, SetProblem, SetValue};
use crate::diagnostics::{did_you_mean, Diagnostic, DiagnosticCode, Location};
use crate::source::FileId;
use crate::syntax::*;
use crate::tables::{self, MueTable, PtpTable};

/// Where a definition stands: a file and an item in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DefRef {
    pub file: usize,
    pub item: usize,
}

/// Everything a policy can name, after `include` and `extends`.
#[derive(Clone, Debug, Default)]
pub struct Namespace {
    pub codesets: BTreeMap<String, Vec<DefRef>>,
    pub consts: BTreeMap<String, Vec<DefRef>>,
    pub tables: BTreeMap<String, Vec<DefRef>>,
    pub plans: BTreeMap<String, DefRef>,
    /// Rule id → its versions (payers only), after overrides and removals.
    pub rules: BTreeMap<String, Vec<DefRef>>,
}

/// A data table read from its file, shared by every policy that names it.
#[derive(Clone)]
pub enum LoadedTable {
    Ptp(Arc<PtpTable>),
    Mue(Arc<MueTable>),
}

/// The outcome of checking a workspace.
pub struct Checked {
    pub workspace: Workspace,
    pub diagnostics: Vec<Diagnostic>,
    /// Policy file index → its namespace (for files whose header parsed).
    pub namespaces: BTreeMap<usize, Namespace>,
    /// A table's data file paths → its rows, for tables that loaded.
    pub tables: BTreeMap<Vec<PathBuf>, LoadedTable>,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    pub fn item(&self, def: DefRef) -> Option<&Item> {
        self.workspace
            .files
            .get(def.file)
            .and_then(|file| file.ast.as_ref())
            .and_then(|ast| ast.items.get(def.item))
    }
}

/// Reads the policy files at `paths` and checks them.
pub fn check_paths(paths: &[PathBuf]) -> Result<Checked, LoadError> {
    Ok(check(Workspace::load(paths)?))
}

/// Checks every file of the workspace (and the files they reach by id).
pub fn check(mut workspace: Workspace) -> Checked {
    let mut diagnostics = std::mem::take(&mut workspace.diagnostics);
    resolve_dependencies(&mut workspace, &mut diagnostics);
    diagnostics.append(&mut workspace.diagnostics);
    let mut checker = Checker {
        workspace: &workspace,
        diagnostics,
        namespaces: BTreeMap::new(),
        in_progress: BTreeSet::new(),
        tables: BTreeMap::new(),
        used: BTreeSet::new(),
    };
    checker.duplicate_policy_ids();
    for index in 0..workspace.files.len() {
        checker.namespace(index);
    }
    for index in 0..workspace.files.len() {
        checker.check_file(index);
    }
    checker.unused_definitions();
    let Checker {
        mut diagnostics,
        namespaces,
        tables,
        ..
    } = checker;
    crate::diagnostics::sort(&mut diagnostics, &workspace.sources);
    diagnostics.dedup();
    Checked {
        namespaces: namespaces
            .into_iter()
            .filter_map(|(k, v)| v.map(|ns| (k, ns)))
            .collect(),
        workspace,
        diagnostics,
        tables,
    }
}

/// Reads the policies and libraries named by `extends`/`include` that were
/// not among the files given, until nothing new is reached.
fn resolve_dependencies(workspace: &mut Workspace, diagnostics: &mut Vec<Diagnostic>) {
    let mut index = 0;
    while index < workspace.files.len() {
        let from = workspace
            .files
            .get(index)
            .map(|file| file.path.clone())
            .unwrap_or_default();
        for id in workspace.dependencies(index) {
            workspace.find(&id, &from);
        }
        index += 1;
    }
    diagnostics.append(&mut workspace.diagnostics);
}

struct Checker<'w> {
    workspace: &'w Workspace,
    diagnostics: Vec<Diagnostic>,
    /// `None` while being built or when the file has no header.
    namespaces: BTreeMap<usize, Option<Namespace>>,
    in_progress: BTreeSet<usize>,
    tables: BTreeMap<Vec<PathBuf>, LoadedTable>,
    /// Definitions some rule, set or constant refers to.
    used: BTreeSet<DefRef>,
}

/// What a file is, with the pieces the checks need.
struct FileView<'w> {
    index: usize,
    id: FileId,
    path: &'w Path,
    ast: &'w PolicyFile,
}

impl<'w> Checker<'w> {
    fn view(&self, index: usize) -> Option<FileView<'w>> {
        let file = self.workspace.files.get(index)?;
        Some(FileView {
            index,
            id: file.id,
            path: &file.path,
            ast: file.ast.as_ref()?,
        })
    }

    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn item(&self, def: DefRef) -> Option<&'w Item> {
        self.view(def.file)
            .and_then(|view| view.ast.items.get(def.item))
    }

    fn duplicate_policy_ids(&mut self) {
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for index in 0..self.workspace.files.len() {
            let Some(view) = self.view(index) else {
                continue;
            };
            let id = view.ast.header.id.value.as_str();
            match seen.get(id) {
                Some(&first) => {
                    let first_path = self
                        .workspace
                        .files
                        .get(first)
                        .map(|f| f.path.display().to_string())
                        .unwrap_or_default();
                    let diagnostic = Diagnostic::new(
                        DiagnosticCode::DuplicateDefinition,
                        view.id,
                        view.ast.header.id.span,
                        format!("policy id `{id}` is already used by `{first_path}`"),
                    )
                    .with_label("second policy with this id")
                    .with_help("give each payer policy and library its own id");
                    self.report(diagnostic);
                }
                None => {
                    seen.insert(id, index);
                }
            }
        }
    }

    /// Builds (once) the namespace of a policy file: what `include` and
    /// `extends` bring, plus its own definitions and rules.
    fn namespace(&mut self, index: usize) -> Option<Namespace> {
        if let Some(done) = self.namespaces.get(&index) {
            return done.clone();
        }
        let view = self.view(index)?;
        if !self.in_progress.insert(index) {
            return None;
        }
        let is_library = view.ast.header.kind == HeaderKind::Library;
        let mut namespace = Namespace::default();
        let mut parent_rules: BTreeMap<String, Vec<DefRef>> = BTreeMap::new();
        let mut has_parent = false;
        // What includes and the parent bring, and where each name came from.
        for item in &view.ast.items {
            let (id, is_extends) = match &item.kind {
                ItemKind::Extends(id) => (id, true),
                ItemKind::Include(id) => (id, false),
                _ => continue,
            };
            if is_extends && has_parent {
                self.report(
                    Diagnostic::new(
                        DiagnosticCode::ConflictingSettings,
                        view.id,
                        item.span,
                        "a policy can extend only one other policy",
                    )
                    .with_label("second `extends`")
                    .with_help("keep one `extends`; bring shared code sets in with `include`"),
                );
                continue;
            }
            if is_extends && is_library {
                self.report(not_in_library(view.id, item.span, "extends"));
                continue;
            }
            let Some(target) = self.workspace.by_policy_id.get(&id.value).copied() else {
                let known = self.workspace.by_policy_id.keys().map(String::as_str);
                let mut diagnostic = Diagnostic::new(
                    DiagnosticCode::UnknownPolicy,
                    view.id,
                    id.span,
                    format!("no policy or library has the id `{}`", id.value),
                )
                .with_label("not found");
                diagnostic = diagnostic.with_help(match did_you_mean(&id.value, known) {
                    Some(suggestion) => suggestion,
                    None => format!(
                        "ppl looks among the files checked, then for `{0}.ppl` in this file's folder and its `lib/` folder",
                        id.value
                    ),
                });
                self.report(diagnostic);
                continue;
            };
            let Some(target_view) = self.view(target) else {
                continue;
            };
            let target_is_library = target_view.ast.header.kind == HeaderKind::Library;
            if is_extends && target_is_library {
                self.report(
                    Diagnostic::new(
                        DiagnosticCode::UnknownPolicy,
                        view.id,
                        id.span,
                        format!(
                            "`{}` is a library; a policy extends a payer policy",
                            id.value
                        ),
                    )
                    .with_label("a library")
                    .with_help(format!(
                        "write `include {}` to use its code sets and tables",
                        id.value
                    )),
                );
                continue;
            }
            if !is_extends && !target_is_library {
                self.report(
                    Diagnostic::new(
                        DiagnosticCode::UnknownPolicy,
                        view.id,
                        id.span,
                        format!(
                            "`{}` is a payer policy; `include` brings in libraries",
                            id.value
                        ),
                    )
                    .with_label("a payer policy")
                    .with_help(format!("write `extends {}` to inherit its rules", id.value)),
                );
                continue;
            }
            if self.in_progress.contains(&target) {
                self.report(
                    Diagnostic::new(
                        DiagnosticCode::Cycle,
                        view.id,
                        id.span,
                        format!("`{}` leads back to `{}`", id.value, view.ast.header.id.value),
                    )
                    .with_label("this closes a circle")
                    .with_help("policies cannot extend or include each other in a circle; remove one of the links"),
                );
                continue;
            }
            let Some(inherited) = self.namespace(target) else {
                continue;
            };
            merge(&mut namespace.codesets, &inherited.codesets);
            merge(&mut namespace.consts, &inherited.consts);
            merge(&mut namespace.tables, &inherited.tables);
            for (plan, def) in &inherited.plans {
                namespace.plans.entry(plan.clone()).or_insert(*def);
            }
            if is_extends {
                has_parent = true;
                parent_rules = inherited.rules;
            }
        }
        self.own_definitions(&view, &mut namespace);
        if !is_library {
            namespace.rules = self.inherit_rules(&view, parent_rules, has_parent);
        }
        self.in_progress.remove(&index);
        self.namespaces.insert(index, Some(namespace.clone()));
        Some(namespace)
    }

    /// Adds a file's own code sets, constants, tables and plans; a name that
    /// also comes from an include or the parent is a duplicate.
    fn own_definitions(&mut self, view: &FileView<'w>, namespace: &mut Namespace) {
        let inherited = namespace.clone();
        for (position, item) in view.ast.items.iter().enumerate() {
            let def = DefRef {
                file: view.index,
                item: position,
            };
            let (map, inherited_map, name, what) = match &item.kind {
                ItemKind::CodeSet(set) => (
                    &mut namespace.codesets,
                    &inherited.codesets,
                    &set.name,
                    "code set",
                ),
                ItemKind::Const(constant) => (
                    &mut namespace.consts,
                    &inherited.consts,
                    &constant.name,
                    "constant",
                ),
                ItemKind::Table(table) => (
                    &mut namespace.tables,
                    &inherited.tables,
                    &table.name,
                    "table",
                ),
                ItemKind::Plan { id, .. } => {
                    if view.ast.header.kind == HeaderKind::Library {
                        self.report(not_in_library(view.id, item.span, "plan"));
                        continue;
                    }
                    if namespace.plans.insert(id.value.clone(), def).is_some() {
                        self.report(
                            Diagnostic::new(
                                DiagnosticCode::DuplicateDefinition,
                                view.id,
                                id.span,
                                format!("plan `{}` is declared twice", id.value),
                            )
                            .with_label("declared again")
                            .with_help("declare each plan once"),
                        );
                    }
                    continue;
                }
                _ => continue,
            };
            if let Some(existing) = inherited_map.get(&name.value).and_then(|defs| defs.first()) {
                let origin = self
                    .workspace
                    .files
                    .get(existing.file)
                    .and_then(|file| file.ast.as_ref())
                    .map(|ast| ast.header.id.value.clone())
                    .unwrap_or_default();
                self.report(
                    Diagnostic::new(
                        DiagnosticCode::DuplicateDefinition,
                        view.id,
                        name.span,
                        format!("{what} `{}` is already defined by `{origin}`", name.value),
                    )
                    .with_label("defined again here")
                    .with_help("use the inherited definition, or give this one a new name"),
                );
                continue;
            }
            map.entry(name.value.clone()).or_default().push(def);
        }
    }

    /// The rules of a payer: its parent's, with overrides and removals applied,
    /// plus its own.
    fn inherit_rules(
        &mut self,
        view: &FileView<'w>,
        mut rules: BTreeMap<String, Vec<DefRef>>,
        has_parent: bool,
    ) -> BTreeMap<String, Vec<DefRef>> {
        let parent_ids: BTreeSet<String> = rules.keys().cloned().collect();
        let mut overridden: BTreeSet<String> = BTreeSet::new();
        for (position, item) in view.ast.items.iter().enumerate() {
            let def = DefRef {
                file: view.index,
                item: position,
            };
            match &item.kind {
                ItemKind::Rule(rule) => {
                    let id = &rule.id.value;
                    let inherited = parent_ids.contains(id);
                    if rule.is_override {
                        if !inherited {
                            self.unknown_parent_rule(
                                view,
                                &rule.id,
                                &parent_ids,
                                has_parent,
                                "override",
                            );
                            continue;
                        }
                        if overridden.insert(id.clone()) {
                            rules.insert(id.clone(), Vec::new());
                        }
                    } else if inherited {
                        self.report(
                            Diagnostic::new(
                                DiagnosticCode::DuplicateDefinition,
                                view.id,
                                rule.id.span,
                                format!("rule `{id}` is inherited from the parent policy"),
                            )
                            .with_label("same id as an inherited rule")
                            .with_help(format!(
                                "write `override rule {id} ...` to replace it, or choose a new id"
                            )),
                        );
                        continue;
                    }
                    rules.entry(id.clone()).or_default().push(def);
                }
                ItemKind::Remove(id) => {
                    if view.ast.header.kind == HeaderKind::Library {
                        continue;
                    }
                    if !parent_ids.contains(&id.value) {
                        self.unknown_parent_rule(view, id, &parent_ids, has_parent, "remove");
                        continue;
                    }
                    rules.remove(&id.value);
                }
                _ => {}
            }
        }
        rules
    }

    fn unknown_parent_rule(
        &mut self,
        view: &FileView<'w>,
        id: &Text,
        parent_ids: &BTreeSet<String>,
        has_parent: bool,
        verb: &str,
    ) {
        let help = if !has_parent {
            format!("`{verb} rule` works on the rules of the policy this one `extends`, and it extends none")
        } else {
            did_you_mean(&id.value, parent_ids.iter().map(String::as_str))
                .unwrap_or_else(|| "check the rule ids of the parent policy".to_owned())
        };
        self.report(
            Diagnostic::new(
                DiagnosticCode::UnknownRule,
                view.id,
                id.span,
                format!(
                    "`{verb}` names rule `{}`, which the parent policy does not have",
                    id.value
                ),
            )
            .with_label("no such rule")
            .with_help(help),
        );
    }

    /// Checks every item of one file against its namespace.
    fn check_file(&mut self, index: usize) {
        let Some(view) = self.view(index) else { return };
        let Some(Some(namespace)) = self.namespaces.get(&index).cloned() else {
            return;
        };
        let is_library = view.ast.header.kind == HeaderKind::Library;
        for (position, item) in view.ast.items.iter().enumerate() {
            let def = DefRef {
                file: index,
                item: position,
            };
            match &item.kind {
                ItemKind::CodeSet(set) => {
                    self.effective(view.id, &set.effective);
                    let mut stack = vec![def];
                    self.evaluate_set(&namespace, &set.expr, set.kind.value, view.id, &mut stack);
                }
                ItemKind::Const(constant) => {
                    self.effective(view.id, &constant.effective);
                    let found = constant.value.value.value_type();
                    if found != constant.ty.value {
                        let mut diagnostic = Diagnostic::new(
                            DiagnosticCode::TypeMismatch,
                            view.id,
                            constant.value.span,
                            format!(
                                "constant `{}` is declared as {} but its value is {}",
                                constant.name.value,
                                constant.ty.value.keyword(),
                                schema::Ty::Value(found).describe()
                            ),
                        )
                        .with_label(format!("this is {}", schema::Ty::Value(found).describe()));
                        if let (Literal::Integer(number), Some(unit)) =
                            (&constant.value.value, quantity_word(constant.ty.value))
                        {
                            diagnostic = diagnostic.with_help(format!("write `{number} {unit}`"));
                        }
                        self.report(diagnostic.with_related(
                            view.id,
                            constant.ty.span,
                            "declared type",
                        ));
                    }
                }
                ItemKind::Table(table) => self.table(&view, table),
                ItemKind::Rule(rule) => {
                    if is_library {
                        self.report(not_in_library(view.id, item.span, "rule"));
                        continue;
                    }
                    self.rule(&view, &namespace, rule);
                }
                ItemKind::Remove(_) | ItemKind::Extends(_) if is_library => {
                    self.report(not_in_library(view.id, item.span, "remove"));
                }
                _ => {}
            }
        }
        self.versions(&view, &namespace);
    }

    /// Reports an inverted date range.
    fn effective(&mut self, file: FileId, effective: &Effective) {
        if let (Some(from), Some(through)) = (&effective.from, &effective.through) {
            if through.value < from.value {
                self.report(
                    Diagnostic::new(
                        DiagnosticCode::InvertedDates,
                        file,
                        through.span,
                        format!(
                            "`through {}` is before `from {}`",
                            through.value, from.value
                        ),
                    )
                    .with_label("ends before it starts")
                    .with_related(file, from.span, "starts here")
                    .with_help("swap the dates, or correct the one that is wrong"),
                );
            }
        }
    }

    /// Evaluates a set expression for the checks, reporting what is wrong in it:
    /// unknown names, malformed codes, sets of the wrong kind, a set that leads
    /// back to the one being defined (`stack` holds it).
    fn evaluate_set(
        &mut self,
        namespace: &Namespace,
        expr: &SetExpr,
        kind: CodeKind,
        file: FileId,
        stack: &mut Vec<DefRef>,
    ) -> SetValue {
        let mut problems = Vec::new();
        let mut reports = Vec::new();
        let value = {
            let mut resolve = |name: &Text| -> Resolved {
                if !namespace.codesets.contains_key(&name.value) {
                    let help = did_you_mean(&name.value, namespace.codesets.keys().map(String::as_str))
                        .unwrap_or_else(|| {
                            "define it with `codeset NAME: KIND = [...]`, or `include` the library that has it"
                                .to_owned()
                        });
                    reports.push(
                        Diagnostic::new(
                            DiagnosticCode::UnknownName,
                            file,
                            name.span,
                            format!("no code set is named `{}`", name.value),
                        )
                        .with_label("unknown code set")
                        .with_help(help),
                    );
                    return Resolved::Unknown;
                }
                let mut cycle = false;
                let resolved = self.named_set(namespace, &name.value, stack, &mut cycle);
                if cycle {
                    reports.push(
                        Diagnostic::new(
                            DiagnosticCode::Cycle,
                            file,
                            name.span,
                            format!(
                                "code set `{}` leads back to the set being defined",
                                name.value
                            ),
                        )
                        .with_label("refers back")
                        .with_help(
                            "a code set cannot include itself, directly or through other sets",
                        ),
                    );
                }
                resolved
            };
            codeset::evaluate(expr, kind, &mut resolve, &mut problems)
        };
        for diagnostic in reports {
            self.report(diagnostic);
        }
        for problem in problems {
            self.report(set_problem(file, problem));
        }
        value
    }

    /// The value of code set `name`, every version unioned, without reporting
    /// (each definition reports its own problems where it stands). `cycle` is
    /// set when the set leads back to the first one on `stack`.
    fn named_set(
        &mut self,
        namespace: &Namespace,
        name: &str,
        stack: &mut Vec<DefRef>,
        cycle: &mut bool,
    ) -> Resolved {
        let Some(defs) = namespace.codesets.get(name) else {
            return Resolved::Unknown;
        };
        let mut union: Option<SetValue> = None;
        for def in defs {
            self.used.insert(*def);
            if stack.first() == Some(def) {
                *cycle = true;
            }
            if stack.contains(def) || stack.len() > MAX_SET_DEPTH {
                return Resolved::Unknown;
            }
            let Some(Item {
                kind: ItemKind::CodeSet(set),
                ..
            }) = self.item(*def)
            else {
                continue;
            };
            stack.push(*def);
            let mut ignored = Vec::new();
            let value = {
                let mut resolve =
                    |inner: &Text| self.named_set(namespace, &inner.value, stack, cycle);
                codeset::evaluate(&set.expr, set.kind.value, &mut resolve, &mut ignored)
            };
            stack.pop();
            union = Some(match union {
                None => value,
                Some(previous) => union_values(previous, value),
            });
        }
        union.map_or(Resolved::Unknown, Resolved::Set)
    }

    fn table(&mut self, view: &FileView<'w>, table: &TableDef) {
        self.effective(view.id, &table.effective);
        match &table.source {
            TableSource::Rows(rows) => {
                let mut ptp = PtpTable::default();
                for row in rows {
                    self.table_row(view.id, table, row, &mut ptp);
                }
                self.overlapping_mue_rows(view.id, rows);
                for (first, second) in ptp.overlapping_versions() {
                    let span = rows
                        .iter()
                        .find(|row| matches!(row, TableRow::Ptp { column_one, column_two, .. } if column_one.value == second.column_one.to_string() && column_two.value == second.column_two.to_string()))
                        .map_or(table.name.span, TableRow::span);
                    self.report(
                        Diagnostic::new(
                            DiagnosticCode::OverlappingVersions,
                            view.id,
                            span,
                            format!(
                                "two rows for `{} {}` are in force on the same days (from {})",
                                first.column_one,
                                first.column_two,
                                second.from.max(first.from)
                            ),
                        )
                        .with_label("overlaps another row for the same pair")
                        .with_help("end the earlier row with `through` the day before the later one starts"),
                    );
                }
            }
            TableSource::File(paths) => {
                let base = view.path.parent().unwrap_or(Path::new("."));
                let full: Vec<PathBuf> = paths.iter().map(|path| base.join(&path.value)).collect();
                if self.tables.contains_key(&full) {
                    return;
                }
                let mut ptp = PtpTable::default();
                let mut mue = MueTable::default();
                let mut complete = true;
                for (path, file_path) in paths.iter().zip(&full) {
                    complete &=
                        self.read_table_file(view, table, path, file_path, &mut ptp, &mut mue);
                }
                if complete {
                    ptp.finish();
                    let loaded = match table.kind.value {
                        TableKind::Ptp => LoadedTable::Ptp(Arc::new(ptp)),
                        TableKind::Mue => LoadedTable::Mue(Arc::new(mue)),
                    };
                    self.tables.insert(full, loaded);
                }
            }
        }
    }

    /// Reads one data file of a table into `ptp` or `mue`; reports what is
    /// wrong, with the data file's line and column, and says whether it loaded.
    fn read_table_file(
        &mut self,
        view: &FileView<'w>,
        table: &TableDef,
        path: &Text,
        full: &Path,
        ptp: &mut PtpTable,
        mue: &mut MueTable,
    ) -> bool {
        let reader = match self.workspace.source.open(full) {
            Ok(reader) => reader,
            Err(error) => {
                self.report(
                    Diagnostic::new(
                        DiagnosticCode::MissingFile,
                        view.id,
                        path.span,
                        format!("cannot read data file `{}`: {error}", full.display()),
                    )
                    .with_label("not readable")
                    .with_help("paths are relative to the policy file; check the name and that the file is there"),
                );
                return false;
            }
        };
        let result = match table.kind.value {
            TableKind::Ptp => tables::read_ptp_into(ptp, reader).map(drop),
            TableKind::Mue => tables::read_mue(reader).map(|limits| {
                for limit in limits.iter() {
                    mue.insert(*limit);
                }
            }),
        };
        let Err(errors) = result else { return true };
        for error in errors {
            self.report(Diagnostic {
                code: DiagnosticCode::BadTableRow,
                level: DiagnosticCode::BadTableRow.level(),
                message: error.message,
                location: Location::Data {
                    path: full.to_path_buf(),
                    line: error.line,
                    column: error.column,
                },
                label: None,
                help: Some(format!(
                    "the file is declared by table `{}` in `{}`; see docs/language.md for the CMS layouts",
                    table.name.value,
                    view.path.display()
                )),
                related: Vec::new(),
            });
        }
        false
    }

    fn table_row(&mut self, file: FileId, table: &TableDef, row: &TableRow, ptp: &mut PtpTable) {
        match (row, table.kind.value) {
            (
                TableRow::Ptp {
                    column_one,
                    column_two,
                    indicator,
                    effective,
                    span,
                },
                TableKind::Ptp,
            ) => {
                self.effective(file, effective);
                let first = self.procedure_code(file, column_one);
                let second = self.procedure_code(file, column_two);
                let indicator_value = match indicator.value {
                    0 => Some(tables::ModifierIndicator::NotAllowed),
                    1 => Some(tables::ModifierIndicator::Allowed),
                    9 => Some(tables::ModifierIndicator::NotApplicable),
                    other => {
                        self.report(
                            Diagnostic::new(
                                DiagnosticCode::BadTableRow,
                                file,
                                indicator.span,
                                format!("modifier indicator `{other}` is not 0, 1 or 9"),
                            )
                            .with_label("not an NCCI indicator")
                            .with_help("0: never billed together; 1: allowed with a bypass modifier; 9: the edit does not apply"),
                        );
                        None
                    }
                };
                if let (Some(a), Some(b)) = (first, second) {
                    if a == b {
                        self.report(
                            Diagnostic::new(
                                DiagnosticCode::BadTableRow,
                                file,
                                *span,
                                format!("a code pair needs two different codes, found `{a}` twice"),
                            )
                            .with_label("same code twice")
                            .with_help("column one and column two name the two codes of the edit"),
                        );
                    } else if let Some(indicator) = indicator_value {
                        ptp.insert(tables::PtpEdit {
                            column_one: a,
                            column_two: b,
                            from: effective
                                .from
                                .as_ref()
                                .map_or(crate::Date::MIN, |d| d.value),
                            through: effective.through.as_ref().map(|d| d.value),
                            indicator,
                        });
                    }
                }
            }
            (
                TableRow::Mue {
                    code,
                    max_units,
                    adjudication,
                    effective,
                    ..
                },
                TableKind::Mue,
            ) => {
                self.effective(file, effective);
                self.procedure_code(file, code);
                if max_units.value == 0 {
                    self.report(
                        Diagnostic::new(DiagnosticCode::BadTableRow, file, max_units.span, "a daily maximum of 0 units denies every unit")
                            .with_label("zero")
                            .with_help("write the most units a day allows; to deny a code outright, use a general rule"),
                    );
                }
                if let Some(mai) = adjudication {
                    if !(1..=3).contains(&mai.value) {
                        self.report(
                            Diagnostic::new(DiagnosticCode::BadTableRow, file, mai.span, format!("MUE adjudication indicator `{}` is not 1, 2 or 3", mai.value))
                                .with_label("not an MAI")
                                .with_help("1: line edit; 2: date-of-service edit (policy); 3: date-of-service edit (clinical)"),
                        );
                    }
                }
            }
            (row, kind) => {
                let expected = match kind {
                    TableKind::Ptp => "a PTP row: `COLUMN1 COLUMN2 indicator N`",
                    TableKind::Mue => "an MUE row: `CODE max N`",
                };
                self.report(
                    Diagnostic::new(
                        DiagnosticCode::BadTableRow,
                        file,
                        row.span(),
                        format!("this row does not fit a `{}` table", table_kind_word(kind)),
                    )
                    .with_label("wrong kind of row")
                    .with_help(format!("write {expected}")),
                );
            }
        }
    }

    /// Two inline MUE rows for one code in force on the same day.
    fn overlapping_mue_rows(&mut self, file: FileId, rows: &[TableRow]) {
        let mue: Vec<(&Text, &Effective, Span)> = rows
            .iter()
            .filter_map(|row| match row {
                TableRow::Mue {
                    code,
                    effective,
                    span,
                    ..
                } => Some((code, effective, *span)),
                TableRow::Ptp { .. } => None,
            })
            .collect();
        for (position, (code, first, first_span)) in mue.iter().enumerate() {
            for (other, second, second_span) in mue.iter().skip(position + 1) {
                if code.value == other.value && first.overlaps(second) {
                    self.report(
                        Diagnostic::new(
                            DiagnosticCode::OverlappingVersions,
                            file,
                            *second_span,
                            format!("two daily limits for `{}` are in force on the same days", code.value),
                        )
                        .with_label("overlaps another row for the same code")
                        .with_related(file, *first_span, "the other row")
                        .with_help("end the earlier row with `through` the day before the later one starts"),
                    );
                }
            }
        }
    }

    fn procedure_code(&mut self, file: FileId, code: &Text) -> Option<crate::codes::ProcedureCode> {
        match crate::codes::ProcedureCode::parse(&code.value) {
            Ok(parsed) => Some(parsed),
            Err(error) => {
                self.report(malformed_code(
                    file,
                    code,
                    CodeKind::Procedure,
                    error.reason,
                ));
                None
            }
        }
    }

    /// Versions of one name (own definitions) or one rule id must not overlap.
    fn versions(&mut self, view: &FileView<'w>, namespace: &Namespace) {
        let groups = [
            (&namespace.codesets, "code set"),
            (&namespace.consts, "constant"),
            (&namespace.tables, "table"),
            (&namespace.rules, "rule"),
        ];
        let mut reports = Vec::new();
        for (map, what) in groups {
            for (name, defs) in map {
                let own: Vec<(DefRef, &Effective, Span)> = defs
                    .iter()
                    .filter(|def| def.file == view.index)
                    .filter_map(|def| {
                        self.item(*def)
                            .and_then(|item| effective_of(item).map(|e| (*def, e, item.span)))
                    })
                    .collect();
                for (position, (_, first, first_span)) in own.iter().enumerate() {
                    for (_, second, second_span) in own.iter().skip(position + 1) {
                        if first.overlaps(second) {
                            reports.push(
                                Diagnostic::new(
                                    DiagnosticCode::OverlappingVersions,
                                    view.id,
                                    header_span(second, *second_span),
                                    format!("two versions of {what} `{name}` are in force on the same days"),
                                )
                                .with_label("this version overlaps")
                                .with_related(view.id, header_span(first, *first_span), "the other version")
                                .with_help("end the earlier version with `through` the day before the later one starts `from`"),
                            );
                        }
                    }
                }
                if let Some(gap) = first_gap(&own) {
                    reports.push(gap.into_diagnostic(view.id, what, name));
                }
                if let Some(diagnostic) = self.disagreeing_versions(view.id, &own, what, name) {
                    reports.push(diagnostic);
                }
            }
        }
        for diagnostic in reports {
            self.report(diagnostic);
        }
    }

    /// Versions of one name must be the same kind of thing: a code set of one
    /// kind, a constant of one type, a table of one kind, a rule of one family.
    fn disagreeing_versions(
        &self,
        file: FileId,
        versions: &[(DefRef, &Effective, Span)],
        what: &str,
        name: &str,
    ) -> Option<Diagnostic> {
        let shape = |def: DefRef| -> Option<(&'static str, Span)> {
            match &self.item(def)?.kind {
                ItemKind::CodeSet(set) => Some((set.kind.value.keyword(), set.kind.span)),
                ItemKind::Const(constant) => Some((constant.ty.value.keyword(), constant.ty.span)),
                ItemKind::Table(table) => {
                    Some((table_kind_word(table.kind.value), table.kind.span))
                }
                ItemKind::Rule(rule) => Some((rule.family.value.keyword(), rule.family.span)),
                _ => None,
            }
        };
        let mut shapes = versions.iter().filter_map(|(def, _, _)| shape(*def));
        let (first, first_span) = shapes.next()?;
        let (other, other_span) = shapes.find(|(other, _)| *other != first)?;
        Some(
            Diagnostic::new(
                DiagnosticCode::TypeMismatch,
                file,
                other_span,
                format!("versions of {what} `{name}` disagree: `{first}` here, `{other}` there"),
            )
            .with_label(format!("`{other}`"))
            .with_related(file, first_span, format!("`{first}`"))
            .with_help("every version of a name must be the same kind of thing; give the other one its own name"),
        )
    }

    /// Payer files' own definitions that nothing refers to.
    fn unused_definitions(&mut self) {
        let mut reports = Vec::new();
        for (index, file) in self.workspace.files.iter().enumerate() {
            let Some(ast) = &file.ast else { continue };
            if ast.header.kind == HeaderKind::Library || !file.named {
                continue;
            }
            for (position, item) in ast.items.iter().enumerate() {
                let def = DefRef {
                    file: index,
                    item: position,
                };
                let (name, what) = match &item.kind {
                    ItemKind::CodeSet(set) => (&set.name, "code set"),
                    ItemKind::Const(constant) => (&constant.name, "constant"),
                    ItemKind::Table(table) => (&table.name, "table"),
                    _ => continue,
                };
                if !self.used.contains(&def) && !self.used_by_name(index, what, &name.value) {
                    reports.push(
                        Diagnostic::new(
                            DiagnosticCode::UnusedDefinition,
                            file.id,
                            name.span,
                            format!("{what} `{}` is never used", name.value),
                        )
                        .with_label("not used by any rule")
                        .with_help("use it in a rule, or remove it"),
                    );
                }
            }
        }
        for diagnostic in reports {
            self.report(diagnostic);
        }
    }

    /// Whether any version of a name in this file is used (versions count together).
    fn used_by_name(&self, file: usize, what: &str, name: &str) -> bool {
        self.used.iter().any(|def| {
            def.file == file
                && self.item(*def).is_some_and(|item| match &item.kind {
                    ItemKind::CodeSet(set) => what == "code set" && set.name.value == name,
                    ItemKind::Const(constant) => what == "constant" && constant.name.value == name,
                    ItemKind::Table(table) => what == "table" && table.name.value == name,
                    _ => false,
                })
        })
    }
}

/// How deep code sets may refer to other code sets.
const MAX_SET_DEPTH: usize = 64;

fn merge(into: &mut BTreeMap<String, Vec<DefRef>>, from: &BTreeMap<String, Vec<DefRef>>) {
    for (name, defs) in from {
        let entry = into.entry(name.clone()).or_default();
        for def in defs {
            if !entry.contains(def) {
                entry.push(*def);
            }
        }
    }
}

fn union_values(a: SetValue, b: SetValue) -> SetValue {
    let expr_free_union = |a: SetValue, b: SetValue| match (a, b) {
        (SetValue::Procedure(mut x), SetValue::Procedure(y)) => {
            x.extend(y);
            SetValue::Procedure(x)
        }
        (SetValue::Diagnosis(x), SetValue::Diagnosis(y)) => {
            SetValue::Diagnosis(Arc::new(codeset::DiagnosisSet::Union(x, y)))
        }
        (SetValue::Modifier(mut x), SetValue::Modifier(y)) => {
            x.extend(y);
            SetValue::Modifier(x)
        }
        (SetValue::Place(mut x), SetValue::Place(y)) => {
            x.extend(y);
            SetValue::Place(x)
        }
        (x, _) => x,
    };
    expr_free_union(a, b)
}

fn effective_of(item: &Item) -> Option<&Effective> {
    match &item.kind {
        ItemKind::CodeSet(set) => Some(&set.effective),
        ItemKind::Const(constant) => Some(&constant.effective),
        ItemKind::Table(table) => Some(&table.effective),
        ItemKind::Rule(rule) => Some(&rule.effective),
        _ => None,
    }
}

/// Where to point for a version: its dates, or the item when it has none.
fn header_span(effective: &Effective, item: Span) -> Span {
    if effective.is_always() {
        Span::new(item.start, item.start + 1)
    } else {
        effective.span
    }
}

struct Gap {
    after: crate::Date,
    before: crate::Date,
    span: Span,
}

impl Gap {
    fn into_diagnostic(self, file: FileId, what: &str, name: &str) -> Diagnostic {
        Diagnostic::new(
            DiagnosticCode::GapBetweenVersions,
            file,
            self.span,
            format!(
                "no version of {what} `{name}` is in force after {} until {}",
                self.after, self.before
            ),
        )
        .with_label("the next version starts later")
        .with_help(
            "if the gap is intended (the rule lapsed), say so in a comment; otherwise close it",
        )
    }
}

/// The first gap between consecutive dated versions.
fn first_gap(versions: &[(DefRef, &Effective, Span)]) -> Option<Gap> {
    let mut dated: Vec<&Effective> = versions.iter().map(|(_, e, _)| *e).collect();
    if dated.len() < 2 {
        return None;
    }
    dated.sort_by_key(|e| e.from.as_ref().map(|d| d.value));
    for pair in dated.windows(2) {
        let [earlier, later] = pair else { continue };
        let (Some(through), Some(from)) = (&earlier.through, &later.from) else {
            continue;
        };
        let next_day = through.value.tomorrow().ok()?;
        if next_day < from.value {
            return Some(Gap {
                after: through.value,
                before: from.value,
                span: from.span,
            });
        }
    }
    None
}

fn not_in_library(file: FileId, span: Span, what: &str) -> Diagnostic {
    Diagnostic::new(
        DiagnosticCode::NotAllowedInLibrary,
        file,
        span,
        format!("a library cannot have a `{what}`"),
    )
    .with_label("not allowed in a library")
    .with_help("a library holds code sets, constants, tables and includes; rules belong in a `payer` policy")
}

fn table_kind_word(kind: TableKind) -> &'static str {
    match kind {
        TableKind::Ptp => "ptp",
        TableKind::Mue => "mue",
    }
}

/// The unit word a bare number of this type needs (`8` → `8 minutes`).
fn quantity_word(ty: ValueType) -> Option<&'static str> {
    match ty {
        ValueType::Minutes => Some("minutes"),
        ValueType::Units => Some("units"),
        ValueType::Days => Some("days"),
        ValueType::Weeks => Some("weeks"),
        ValueType::Visits => Some("visits"),
        _ => None,
    }
}

pub(crate) fn malformed_code(
    file: FileId,
    code: &Text,
    kind: CodeKind,
    reason: &str,
) -> Diagnostic {
    Diagnostic::new(
        DiagnosticCode::MalformedCode,
        file,
        code.span,
        format!("`{}` is not a valid {} code", code.value, kind.keyword()),
    )
    .with_label(format!("not a {} code", kind.keyword()))
    .with_help(reason.to_owned())
}

fn set_problem(file: FileId, problem: SetProblem) -> Diagnostic {
    match problem {
        SetProblem::Malformed {
            span,
            text,
            kind,
            reason,
        } => malformed_code(file, &Spanned::new(text, span), kind, reason),
        SetProblem::BadRange { span, reason } => Diagnostic::new(
            DiagnosticCode::BadRange,
            file,
            span,
            "this code range is not valid",
        )
        .with_label("bad range")
        .with_help(reason),
        SetProblem::WrongKind {
            span,
            name,
            expected,
            found,
        } => Diagnostic::new(
            DiagnosticCode::WrongCodeKind,
            file,
            span,
            format!(
                "`{name}` is a set of {} codes; {} codes are needed here",
                found.keyword(),
                expected.keyword()
            ),
        )
        .with_label(format!("{} codes", found.keyword()))
        .with_help(format!("use a `{}` code set here", expected.keyword())),
    }
}
