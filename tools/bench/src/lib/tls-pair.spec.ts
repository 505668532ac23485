import { tlsAdds } from './tls-pair';

const run = (cpuUs: number, roundTripP50Us = 0) => ({ cpuUs, roundTripP50Us });

describe(tlsAdds.name, () => {
  it("gives each transport's median and what TLS adds, run by run", () => {
    // Differences 40, 50 and 300 (a slow spell in the last run): their median is 50, while the
    // difference of the medians would be 60.
    const comparison = {
      plain: [run(100), run(120), run(130)],
      tls: [run(140), run(170), run(430)],
    };
    expect(tlsAdds(comparison, 'cpuUs')).toEqual({ plain: 120, tls: 170, added: 50 });
  });

  it('reads the figure it is asked for', () => {
    const comparison = { plain: [run(100, 80)], tls: [run(150, 95)] };
    expect(tlsAdds(comparison, 'roundTripP50Us')).toEqual({ plain: 80, tls: 95, added: 15 });
  });
});
