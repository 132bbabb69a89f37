import Foundation
import PlanWatchModel
import Yams

/// Reads and checks plan files (YAML), saying exactly what is wrong and where.
public enum PlanFile {
    /// One problem in a plan file: file, line and column, the key's path, and what is wrong.
    public typealias Problem = FileProblem
    /// A plan file with problems; `description` lists them all.
    public typealias Invalid = InvalidFile

    /// Loads a plan, or throws ``Invalid`` with every problem found.
    public static func load(path: String) throws -> Plan {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(problems: [Problem(file: path, line: 0, column: 0, path: "", message: "cannot read the file")])
        }
        let (plan, problems) = check(text: String(decoding: data, as: UTF8.self), file: path)
        guard let plan, problems.isEmpty else { throw Invalid(problems: problems) }
        return plan
    }

    /// Loads several plans into a ``PlanSet``.
    public static func loadSet(paths: [String], atRiskMarginPoints: Double = 10) throws -> PlanSet {
        PlanSet(plans: try paths.map(load(path:)), atRiskMarginPoints: atRiskMarginPoints)
    }

    /// Checks the text of a plan file; returns the plan when there is no problem.
    public static func check(text: String, file: String) -> (Plan?, [Problem]) {
        var checker = YAMLChecker(file: file)
        guard let node = checker.compose(text) else { return (nil, checker.problems) }
        let plan = checker.plan(node)
        return (checker.problems.isEmpty ? plan : nil, checker.problems)
    }
}

extension YAMLChecker {
    mutating func plan(_ root: Node) -> Plan? {
        guard
            let map = mapping(root, "", allowed: ["plan", "title", "city", "source", "period", "targets"])
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
        var targets: [PlanTarget] = []
        if let t = map["targets"] {
            if let items = t.sequence {
                var seen = Set<String>()
                for (i, item) in items.enumerated() {
                    if let target = self.target(item, "targets[\(i)]", city: city, period: period) {
                        let key = "\(target.indicator)|\(target.scope.rawValue)|\(target.region?.code ?? "")"
                        if !seen.insert(key).inserted {
                            report(item, "targets[\(i)]", "a second target for \(target.indicator) at the same scope")
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
        return Plan(plan: name, title: title, city: city, source: source, period: period, targets: targets)
    }

    mutating func target(_ node: Node, _ path: String, city: RegionCode?, period: Plan.Period?) -> PlanTarget? {
        let allowed = ["indicator", "scope", "region", "atLeast", "atMost", "equals", "baseline", "deadline", "planRef", "text"]
        guard let map = mapping(node, path, allowed: allowed) else { return nil }
        var indicator = string(map, "indicator", path, parent: node)
        if let id = indicator, IndicatorCatalog.builtIn[id] == nil {
            report(map["indicator"], "\(path).indicator", "unknown indicator '\(id)' (known: \(IndicatorCatalog.builtIn.keys.sorted().joined(separator: ", ")))")
            indicator = nil
        }
        var scope: IndicatorScope?
        if let s = string(map, "scope", path, parent: node) {
            if s == "city" || s == "district" { scope = IndicatorScope(rawValue: s) } else {
                report(map["scope"], "\(path).scope", "'\(s)' is not city or district")
            }
        }
        var region: RegionCode?
        if let r = string(map, "region", path, required: false, parent: node) {
            if let code = RegionCode(r), code.isDistrict, city == nil || code.city == city { region = code } else {
                report(map["region"], "\(path).region", "'\(r)' is not a district of the plan's city")
            }
            if scope == .city { report(map["region"], "\(path).region", "a city-scope target names no district") }
        }
        let bounds = ["atLeast", "atMost", "equals"].filter { map[$0] != nil }
        if bounds.count != 1 {
            report(node, path, "needs exactly one of atLeast, atMost, equals (has \(bounds.isEmpty ? "none" : bounds.joined(separator: ", ")))")
        }
        let atLeast = number(map, "atLeast", path)
        let atMost = number(map, "atMost", path)
        let equals = number(map, "equals", path)
        if let id = indicator, IndicatorCatalog.builtIn[id] == true {
            for (key, v) in [("atLeast", atLeast), ("atMost", atMost), ("equals", equals)] {
                if let v, !(0...1).contains(v) {
                    report(map[key], "\(path).\(key)", "\(id) is a share: write \(v) as a fraction between 0 and 1")
                }
            }
        }
        let baseline = number(map, "baseline", path)
        let deadline = date(map, "deadline", path, parent: node)
        if let deadline, let period, deadline < period.start {
            report(map["deadline"], "\(path).deadline", "\(deadline) is before the plan period starts (\(period.start))")
        }
        let planRef = string(map, "planRef", path, parent: node)
        let text = string(map, "text", path, required: false, parent: node)
        guard let indicator, let scope, let deadline, let planRef, bounds.count == 1 else { return nil }
        return PlanTarget(
            indicator: indicator, scope: scope, region: region, atLeast: atLeast, atMost: atMost, equals: equals,
            baseline: baseline, deadline: deadline, planRef: planRef, text: text)
    }
}
