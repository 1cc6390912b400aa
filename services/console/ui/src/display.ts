/**
 * Wall-screen mode: larger type for a control-room display, chosen with the
 * header toggle (kept in localStorage) or `?wall=1` in the hash for a kiosk
 * URL. Very wide screens get larger type through CSS alone (app.css).
 */
import { useEffect, useState } from 'preact/hooks';

const key = 'eip-console-wall';
const listeners = new Set<(on: boolean) => void>();

function initial(): boolean {
  if (/[?&]wall=1\b/.test(location.hash)) return true;
  try {
    return localStorage.getItem(key) === '1';
  } catch {
    return false;
  }
}

let wall = initial();
document.documentElement.classList.toggle('wall', wall);

export function setWallMode(on: boolean): void {
  wall = on;
  document.documentElement.classList.toggle('wall', on);
  try {
    localStorage.setItem(key, on ? '1' : '0');
  } catch {
    // private mode: the choice lasts for this page only
  }
  for (const l of listeners) l(on);
}

export function useWallMode(): boolean {
  const [on, setOn] = useState(wall);
  useEffect(() => {
    listeners.add(setOn);
    return () => { listeners.delete(setOn); };
  }, []);
  return on;
}

/** The root font size in px: charts draw their axis labels at the page's type size. */
export function rootFontPx(): number {
  return parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
}
