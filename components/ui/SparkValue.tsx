import { Sparkline } from './Sparkline';

/** A table cell's number with its sparkline before it (the overview's and the fleet page's rate cells). */
export function SparkValue({ text, series, label, wide, sparkWidth = 56 }: {
  text: string; series: readonly number[]; label: string; wide?: boolean; sparkWidth?: number;
}) {
  return (
    <div className="flex items-center justify-end gap-2">
      <Sparkline values={series} width={sparkWidth} height={20} label={label} />
      <span className={`num inline-block text-right ${wide ? 'w-[92px]' : 'w-[62px]'}`}>{text}</span>
    </div>
  );
}
