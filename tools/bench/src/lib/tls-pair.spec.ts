import { addedBy } from './tls-pair';

const run = (cpuUs: number, roundTripP50Us = 0) => ({ cpuUs, roundTripP50Us });

describe(addedBy.name, () => {
  it("gives each setup's median and what the other adds, run by run", () => {
    // Differences 40, 50 and 300 (a slow spell in the last run): their median is 50, while the
    // difference of the medians would be 60.
    const comparison = {
      base: [run(100), run(120), run(130)],
      other: [run(140), run(170), run(430)],
    };
    expect(addedBy(comparison, 'cpuUs')).toEqual({ base: 120, other: 170, added: 50 });
  });

  it('reads the figure it is asked for', () => {
    const comparison = { base: [run(100, 80)], other: [run(150, 95)] };
    expect(addedBy(comparison, 'roundTripP50Us')).toEqual({ base: 80, other: 95, added: 15 });
  });
});
