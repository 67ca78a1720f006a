export { default } from '../../d/[director]/lab/page';
