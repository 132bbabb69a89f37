import DigitalInfrastructure
import Foundation
import HandlerCatalog
import HandlerKit
import PlanFiles
import PlanWatchModel
import Testing

@Suite struct PlanFileTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// What the built-in handlers declare: the indicators plan targets may name.
    static let catalog = IndicatorCatalog(HandlerCatalog.builtIn().map(\.manifest))
    /// With the DigitalInfrastructure plugin loaded too, as the 003 plan needs.
    static let withPlugins = IndicatorCatalog(HandlerCatalog.builtIn().map(\.manifest) + [DigitalInfrastructureHandler().manifest])

    @Test func theDistrictPlansOf003NeedTheDigitalInfrastructurePluginAndValidateWithIt() throws {
        let path = Self.root.appendingPathComponent("Plans/district-003-2024.yaml").path
        let plan = try PlanFile.load(path: path, catalog: Self.withPlugins)
        #expect(plan.targets.allSatisfy { $0.planRef.hasPrefix("District plans (003) §") && $0.scope == .eachDistrict })
        #expect(plan.districts.count == 8)
        #expect(throws: PlanFile.Invalid.self) { try PlanFile.load(path: path, catalog: Self.catalog) }
        let all = ["zibo-2020.yaml", "city-2023.yaml", "yiyang-2013.yaml", "district-003-2024.yaml"]
        #expect(try PlanFile.loadSet(paths: all.map { Self.root.appendingPathComponent("Plans/\($0)").path }, catalog: Self.withPlugins).plans.count == 4)
    }

    @Test(arguments: ["zibo-2020.yaml", "city-2023.yaml", "yiyang-2013.yaml"])
    func shippedPlansValidate(file: String) throws {
        let plan = try PlanFile.load(path: Self.root.appendingPathComponent("Plans/\(file)").path, catalog: Self.catalog)
        #expect(plan.city.isCity)
        #expect(!plan.targets.isEmpty)
        #expect(plan.targets.allSatisfy { $0.planRef.hasPrefix(plan.plan + " §") })
    }

    @Test func theShippedPlansLoadTogether() throws {
        let paths = ["zibo-2020.yaml", "city-2023.yaml", "yiyang-2013.yaml"].map { Self.root.appendingPathComponent("Plans/\($0)").path }
        let set = try PlanFile.loadSet(paths: paths, catalog: Self.catalog)
        #expect(set.plans.count == 3)
    }

    @Test func problemsSayWhatAndWhere() {
        let text = """
            plan: X
            city: "370303"
            period: {start: 2020-01-01, end: 2020-12-31}
            targets:
              - indicator: preschool.public_share
                scope: city
                atLeast: 50
                deadline: 2020-13-01
                planRef: X §1
              - indicator: no.such
                scope: county
                atMost: 1
                equals: 1
                deadline: 2020-12-31
                planRef: X §2
            """
        let (plan, problems) = PlanFile.check(text: text, file: "p.yaml", catalog: Self.catalog)
        #expect(plan == nil)
        let lines = problems.map(\.description)
        #expect(lines.contains("p.yaml:1:1: title: required key is missing"))
        #expect(lines.contains("p.yaml:2:7: city: '370303' is not a city code (six digits ending in 00, e.g. 370300)"))
        #expect(lines.contains("p.yaml:7:14: targets[0].atLeast: preschool.public_share is a share: write 50.0 as a fraction between 0 and 1"))
        #expect(lines.contains("p.yaml:8:15: targets[0].deadline: '2020-13-01' is not a YYYY-MM-DD date"))
        #expect(lines.contains { $0.hasPrefix("p.yaml:10:16: targets[1].indicator: unknown indicator 'no.such'") })
        #expect(lines.contains("p.yaml:11:12: targets[1].scope: 'county' is not city, district or eachDistrict"))
        #expect(lines.contains("p.yaml:10:5: targets[1]: needs exactly one of atLeast, atMost, equals (has atMost, equals)"))
    }

    @Test func brokenYamlNamesTheLine() {
        let (_, problems) = PlanFile.check(text: "plan: X\ntargets: [\n", file: "p.yaml", catalog: Self.catalog)
        #expect(problems.count == 1)
        #expect(problems[0].description.hasPrefix("p.yaml:3:"))
    }

    @Test(arguments: [
        // (value, date, status) for public share ≥ 50 % over 2020, from a baseline of 0.3
        (0.50, "2020-03-01", TargetStatus.met),
        (0.38, "2020-03-01", .onTrack),  // 40 % of the way, 16 % of the year
        (0.46, "2020-11-20", .atRisk),  // 80 % against 88 %
        (0.40, "2020-11-20", .offTrack),  // 50 % against 88 %
        (0.49, "2021-01-05", .offTrack),  // past the deadline
    ])
    func targetStatusAsDomainMdDefinesIt(value: Double, date: String, status: TargetStatus) throws {
        let plans = PlanSet(plans: [
            Plan(
                plan: "Zibo 2020", title: "t", city: RegionCode("370300")!, source: nil,
                period: .init(start: LocalDate(iso: "2020-01-01")!, end: LocalDate(iso: "2020-12-31")!),
                targets: [
                    PlanTarget(indicator: "preschool.public_share", scope: .city, atLeast: 0.5, deadline: LocalDate(iso: "2020-12-31")!, planRef: "Zibo 2020 §6")
                ])
        ])
        let match = try #require(plans.judging("preschool.public_share", at: RegionCode("370300")!, on: LocalDate(iso: date)!))
        #expect(plans.status(of: value, baseline: 0.3, against: match, on: LocalDate(iso: date)!) == status)
        #expect(plans.judging("preschool.public_share", at: RegionCode("370303")!, on: LocalDate(iso: date)!) == nil)
        // Before the period begins there is nothing to judge against.
        #expect(plans.judging("preschool.public_share", at: RegionCode("370300")!, on: LocalDate(iso: "2019-12-31")!) == nil)
    }
}
