import Foundation
import PlanWatchModel
import Yams

/// Reads and checks plan files (YAML), saying exactly what is wrong and where. What a target
/// may name — indicators, their filters — comes from the loaded handlers' manifests
/// (``IndicatorCatalog``), plugins included.
///
/// ```yaml
/// plan: Zibo 2020
/// title: 中共淄博市委教育工委 淄博市教育局2020年工作要点
/// city: "370300"
/// period: {start: 2020-01-01, end: 2020-12-31}
/// districts: ["370302", "370303", …]          # for eachDistrict targets
/// names: {"370300": 淄博市, "370303": 张店区}     # optional, for the console and summaries
/// severity: {redDeaths: 3, yellowCategories: [sexualAbuse, drowning, bullying]}   # optional
/// targets:
///   - indicator: projects.completed
///     series: projects.completed.schools_new   # the name it is published under
///     filter: {category: [primary, junior, nineYear, senior], work: [new, expansion]}
///     scope: city                                # city, eachDistrict, or district (with region)
///     atLeast: 33
///     deadline: 2020-12-31
///     planRef: Zibo 2020 §8
///     text: 新改扩建中小学校33所
/// ```
public enum PlanFile {
    /// One problem in a plan file: file, line and column, the key's path, and what is wrong.
    public typealias Problem = FileProblem
    /// A plan file with problems; `description` lists them all.
    public typealias Invalid = InvalidFile

    /// Loads a plan, or throws ``Invalid`` with every problem found.
    public static func load(path: String, catalog: IndicatorCatalog) throws -> Plan {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(problems: [Problem(file: path, line: 0, column: 0, path: "", message: "cannot read the file")])
        }
        let (plan, problems) = check(text: String(decoding: data, as: UTF8.self), file: path, catalog: catalog)
        guard let plan, problems.isEmpty else { throw Invalid(problems: problems) }
        return plan
    }

    /// Loads several plans into a ``PlanSet``, checking them against each other too: one
    /// series at one place has one target at a time, and always counts the same thing.
    public static func loadSet(paths: [String], catalog: IndicatorCatalog, atRiskMarginPoints: Double = 10) throws -> PlanSet {
        var plans: [Plan] = []
        var problems: [Problem] = []
        for path in paths {
            do { plans.append(try load(path: path, catalog: catalog)) } catch let invalid as Invalid { problems += invalid.problems }
        }
        problems += conflicts(plans, files: paths)
        guard problems.isEmpty else { throw Invalid(problems: problems) }
        return PlanSet(plans: plans, atRiskMarginPoints: atRiskMarginPoints)
    }

    /// Checks the text of a plan file; returns the plan when there is no problem.
    public static func check(text: String, file: String, catalog: IndicatorCatalog) -> (Plan?, [Problem]) {
        var checker = YAMLChecker(file: file)
        guard let node = checker.compose(text) else { return (nil, checker.problems) }
        let plan = checker.plan(node, catalog: catalog)
        if let plan { checker.problems += conflicts([plan], files: [file]) }
        return (checker.problems.isEmpty ? plan : nil, checker.problems)
    }

    /// Targets of the same series that would be judged at the same place at the same time,
    /// or that count different things under one name.
    static func conflicts(_ plans: [Plan], files: [String]) -> [Problem] {
        var problems: [Problem] = []
        let set = PlanSet(plans: plans)
        let all = set.assignments
        for (i, a) in all.enumerated() {
            for b in all[(i + 1)...] where a.target.series == b.target.series {
                let file = files.count == plans.count ? (files[plans.firstIndex { $0.plan == b.plan } ?? 0]) : files.first ?? ""
                if a.target.indicator != b.target.indicator || a.target.filter != b.target.filter {
                    problems.append(
                        Problem(
                            file: file, line: 0, column: 0, path: "targets",
                            message:
                                "series \(b.target.series) counts \(b.target.indicator)\(describe(b.target.filter)) in \(b.plan) but \(a.target.indicator)\(describe(a.target.filter)) in \(a.plan): give one of them another series name"
                        ))
                    continue
                }
                let samePlace = a.city == b.city && (a.target.scope == b.target.scope || a.target.scope == .eachDistrict || b.target.scope == .eachDistrict)
                if samePlace && a.window.overlaps(b.window) {
                    problems.append(
                        Problem(
                            file: file, line: 0, column: 0, path: "targets",
                            message:
                                "\(b.plan) and \(a.plan) both judge \(b.target.series) at the same place in overlapping periods: a series has one target at a time"
                        ))
                }
            }
        }
        return problems
    }

    static func describe(_ filter: [String: [String]]) -> String {
        filter.isEmpty ? "" : " (" + filter.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value.joined(separator: ", "))" }.joined(separator: "; ") + ")"
    }
}

extension YAMLChecker {
    mutating func plan(_ root: Node, catalog: IndicatorCatalog) -> Plan? {
        guard
            let map = mapping(root, "", allowed: ["plan", "title", "city", "source", "period", "districts", "names", "severity", "targets"])
        else { return nil }
        let name = string(map, "plan", "", parent: root)
        let title = string(map, "title", "", parent: root)
        let source = string(map, "source", "", required: false, parent: root)
        var city: RegionCode?
        if let c = string(map, "city", "", parent: root) {
            if let code = RegionCode(c), code.isCity { city = code } else {
                report(map["city"], "city", "'\(c)' is not a city code (six digits ending in 00, e.g. 370300)")
            }
        }
        var period: Plan.Period?
        if let p = map["period"], let pm = mapping(p, "period", allowed: ["start", "end"]) {
            if let start = date(pm, "start", "period", parent: p), let end = date(pm, "end", "period", parent: p) {
                if end < start { report(pm["end"], "period.end", "\(end) is before the start \(start)") } else {
                    period = Plan.Period(start: start, end: end)
                }
            }
        } else if map["period"] == nil {
            report(root, "period", "required key is missing")
        }
        var districts: [RegionCode] = []
        if let d = map["districts"] {
            if let items = d.sequence {
                for (i, item) in items.enumerated() {
                    let text = item.scalar?.string ?? ""
                    if let code = RegionCode(text), code.isDistrict, city == nil || code.city == city {
                        if districts.contains(code) { report(item, "districts[\(i)]", "\(code) is listed twice") }
                        districts.append(code)
                    } else {
                        report(item, "districts[\(i)]", "'\(text)' is not a district of the plan's city")
                    }
                }
            } else {
                report(d, "districts", "expected a list of district codes")
            }
        }
        var names: [String: String]?
        if let n = map["names"] {
            if let pairs = n.mapping {
                names = [:]
                for (key, value) in pairs {
                    let code = key.scalar?.string ?? ""
                    guard let region = RegionCode(code), city == nil || region == city || region.city == city else {
                        report(key, "names.\(code)", "'\(code)' is not the plan's city or one of its districts")
                        continue
                    }
                    guard let name = value.scalar?.string, !name.isEmpty, name.count <= 64 else {
                        report(value, "names.\(code)", "expected a name of 1 to 64 characters")
                        continue
                    }
                    names?[region.code] = name
                }
            } else {
                report(n, "names", "expected a mapping of region code to name, e.g. {\"370303\": 张店区}")
            }
        }
        let severity = map["severity"].flatMap { self.severity($0) }
        var targets: [PlanTarget] = []
        if let t = map["targets"] {
            if let items = t.sequence {
                var seen = Set<String>()
                for (i, item) in items.enumerated() {
                    if let target = self.target(item, "targets[\(i)]", city: city, period: period, catalog: catalog) {
                        if target.scope == .eachDistrict && districts.isEmpty {
                            report(item, "targets[\(i)].scope", "eachDistrict needs the plan's districts: list them under districts")
                        }
                        let key = "\(target.series)|\(target.scope)"
                        if !seen.insert(key).inserted {
                            report(item, "targets[\(i)]", "a second target for \(target.series) at the same scope")
                        }
                        targets.append(target)
                    }
                }
            } else {
                report(t, "targets", "expected a list of targets")
            }
        } else {
            report(root, "targets", "required key is missing")
        }
        guard let name, let title, let city, let period else { return nil }
        return Plan(
            plan: name, title: title, city: city, source: source, period: period, districts: districts, severity: severity,
            targets: targets, names: names)
    }

    mutating func severity(_ node: Node) -> SeverityOverride? {
        let numbers = ["redDeaths", "redAffected", "orangeDeaths", "orangeInjured", "orangeAffected", "yellowInjured", "yellowAffected"]
        guard let map = mapping(node, "severity", allowed: numbers + ["yellowCategories"]) else { return nil }
        var values: [String: Int64] = [:]
        for key in numbers {
            guard let v = number(map, key, "severity") else { continue }
            if v < 0 || v > 1_000_000 || v != v.rounded() {
                report(map[key], "severity.\(key)", "expected a whole number from 0 to 1000000")
            } else {
                values[key] = Int64(v)
            }
        }
        var categories: [String]?
        if let c = map["yellowCategories"] {
            let known = SafetyIncident.Category.allCases.map(\.rawValue)
            categories = (c.sequence ?? []).compactMap { item in
                let text = item.scalar?.string ?? ""
                if known.contains(text) { return text }
                report(item, "severity.yellowCategories", "'\(text)' is not an incident category (\(known.joined(separator: ", ")))")
                return nil
            }
        }
        return SeverityOverride(
            redDeaths: values["redDeaths"], redAffected: values["redAffected"], orangeDeaths: values["orangeDeaths"],
            orangeInjured: values["orangeInjured"], orangeAffected: values["orangeAffected"], yellowInjured: values["yellowInjured"],
            yellowAffected: values["yellowAffected"], yellowCategories: categories)
    }

    mutating func target(_ node: Node, _ path: String, city: RegionCode?, period: Plan.Period?, catalog: IndicatorCatalog) -> PlanTarget? {
        let allowed = [
            "indicator", "series", "filter", "scope", "region", "atLeast", "atMost", "equals", "baseline", "deadline", "planRef", "text",
        ]
        guard let map = mapping(node, path, allowed: allowed) else { return nil }
        var indicator = string(map, "indicator", path, parent: node)
        var spec: IndicatorSpec?
        if let id = indicator {
            spec = catalog[id]
            if spec == nil {
                report(map["indicator"], "\(path).indicator", "unknown indicator '\(id)' (the loaded handlers offer: \(catalog.ids.joined(separator: ", ")))")
                indicator = nil
            }
        }
        let series = string(map, "series", path, required: false, parent: node)
        if let series, series.range(of: #"^[a-z][A-Za-z0-9_]*(\.[a-z][A-Za-z0-9_]*)+$"#, options: .regularExpression) == nil {
            report(map["series"], "\(path).series", "'\(series)' is not a dotted name such as projects.completed.schools_new")
        }
        if let series, let spec, series != spec.id, catalog[series] != nil {
            report(map["series"], "\(path).series", "'\(series)' is another indicator's name; choose a name of its own")
        }
        var filter: [String: [String]] = [:]
        if let f = map["filter"] {
            if let fm = f.mapping {
                for (key, value) in fm {
                    let name = key.string ?? "?"
                    let values = (value.sequence ?? [value]).compactMap { $0.scalar?.string }
                    guard let spec else { continue }
                    guard let allowedValues = spec.filters[name] else {
                        let offered = spec.filters.keys.sorted()
                        report(
                            key, "\(path).filter.\(name)",
                            offered.isEmpty
                                ? "\(spec.id) cannot be filtered" : "\(spec.id) can be filtered by \(offered.joined(separator: ", ")), not \(name)")
                        continue
                    }
                    for v in values where !allowedValues.contains(v) {
                        report(value, "\(path).filter.\(name)", "'\(v)' is not one of \(allowedValues.joined(separator: ", "))")
                    }
                    if values.isEmpty { report(value, "\(path).filter.\(name)", "expected a list of values") }
                    filter[name] = values
                }
            } else {
                report(f, "\(path).filter", "expected a mapping of filter names to lists of values")
            }
        }
        if !filter.isEmpty && series == nil {
            report(node, "\(path).series", "a filtered target needs a series name of its own (it counts only some of \(indicator ?? "its indicator"))")
        }
        var scope: TargetScope?
        let regionText = string(map, "region", path, required: false, parent: node)
        if let s = string(map, "scope", path, parent: node) {
            switch s {
            case "city":
                scope = .city
                if regionText != nil { report(map["region"], "\(path).region", "a city-scope target names no district") }
            case "eachDistrict":
                scope = .eachDistrict
                if regionText != nil { report(map["region"], "\(path).region", "an eachDistrict target names no district") }
            case "district":
                if let r = regionText, let code = RegionCode(r), code.isDistrict, city == nil || code.city == city {
                    scope = .district(code)
                } else if let r = regionText {
                    report(map["region"], "\(path).region", "'\(r)' is not a district of the plan's city")
                } else {
                    report(node, "\(path).region", "a district target names its district (region), or use scope: eachDistrict")
                }
            default:
                report(map["scope"], "\(path).scope", "'\(s)' is not city, district or eachDistrict")
            }
        }
        let bounds = ["atLeast", "atMost", "equals"].filter { map[$0] != nil }
        if bounds.count != 1 {
            report(node, path, "needs exactly one of atLeast, atMost, equals (has \(bounds.isEmpty ? "none" : bounds.joined(separator: ", ")))")
        }
        let atLeast = number(map, "atLeast", path)
        let atMost = number(map, "atMost", path)
        let equals = number(map, "equals", path)
        let baseline = number(map, "baseline", path)
        if let spec, spec.kind == .ratio {
            for (key, v) in [("atLeast", atLeast), ("atMost", atMost), ("equals", equals), ("baseline", baseline)] {
                if let v, !(0...1).contains(v) {
                    report(map[key], "\(path).\(key)", "\(spec.id) is a share: write \(v) as a fraction between 0 and 1")
                }
            }
        }
        if let spec, spec.measure == .flow, let baseline, baseline != 0 {
            report(map["baseline"], "\(path).baseline", "\(spec.id) counts what happens in the period: its baseline is 0, not \(baseline)")
        }
        let deadline = date(map, "deadline", path, parent: node)
        if let deadline, let period, deadline < period.start {
            report(map["deadline"], "\(path).deadline", "\(deadline) is before the plan period starts (\(period.start))")
        }
        let planRef = string(map, "planRef", path, parent: node)
        let text = string(map, "text", path, required: false, parent: node)
        guard let indicator, let scope, let deadline, let planRef, bounds.count == 1 else { return nil }
        return PlanTarget(
            indicator: indicator, series: series, scope: scope, filter: filter, atLeast: atLeast, atMost: atMost, equals: equals,
            baseline: baseline, deadline: deadline, planRef: planRef, text: text)
    }
}
